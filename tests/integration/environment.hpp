#pragma once
// What every daemon test needs: a private dbus-daemon (exported as the
// session bus) and `healerd --user --simulated` with its own state directory.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "process.hpp"

struct sqlite3;

namespace heal::integration {

// The methods that change healerd's state: root and group healerd only.
inline constexpr std::array<const char*, 5> kMutatingMethods{"Recover", "Train", "SimulateFailure", "Pause", "Resume"};

struct BusPolicy {
    // Deny Recover, Train and SimulateFailure to every client, as the system
    // policy does to users outside the healerd group.
    bool deny_mutating = false;
};

// Sets an environment variable (inherited by every child) while it lives.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const std::string& value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> previous_;
};

// Points DBUS_SESSION_BUS_ADDRESS at its socket while it lives. Any uid may
// connect (the session bus's default is only the bus owner's), so tests can
// call healerd as another user.
class PrivateBus {
public:
    PrivateBus(const std::filesystem::path& dir, BusPolicy policy = {});
    const std::string& address() const { return address_; }

private:
    std::unique_ptr<BackgroundProcess> daemon_;
    std::string address_;
    std::optional<ScopedEnv> session_;
};

// A bus address where nobody listens, for DBUS_SESSION_BUS_ADDRESS or
// DBUS_SYSTEM_BUS_ADDRESS.
std::string absent_bus_address(const std::filesystem::path& dir);

// No session bus while it lives.
class NoBus {
public:
    explicit NoBus(const std::filesystem::path& dir);

private:
    ScopedEnv session_;
};

// The test configuration: fast sampling, one watched unit, no automatic
// recovery (so tests decide when a recovery runs), no circuit breaker, and
// a fixed [Simulation] Seed= with every action healing an injected fault with
// `heal_chance`: 1 (always) or 0 (never) gives each recovery one known
// outcome. A later section in the same text overrides its keys.
inline constexpr const char* kWatchedUnit = "demo.service";
std::string test_config(double heal_chance = 1.0);
// Appended to test_config(): automatic recovery that retries at once and
// resolves an incident after 1 s of health.
inline const std::string kAutoRecover = "[Recovery]\nAutoRecover=yes\nStableSec=1s\nBackoffSec=0\n";

class Healerd {
public:
    // Starts healerd and waits until it owns org.healerd.Healer1.
    explicit Healerd(const std::filesystem::path& dir, const std::string& config = test_config());
    ~Healerd();
    std::string log() const { return process_->log_text(); }
    BackgroundProcess& process() { return *process_; }
    const std::filesystem::path& config_file() const { return config_file_; }
    const std::filesystem::path& database() const { return database_; }
    // Replaces its configuration file with `config` and sends SIGHUP.
    void reconfigure(const std::string& config);

private:
    std::filesystem::path config_file_;
    std::filesystem::path database_;
    std::unique_ptr<BackgroundProcess> process_;
};

// A connection of the test's own to a database healerd uses, as another
// process would open it. Throws std::runtime_error (failing the test) on any
// SQLite error.
class Database {
public:
    explicit Database(const std::filesystem::path& file);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    void exec(const std::string& sql);
    // The first column of the first row `sql` returns, as an integer or text.
    std::int64_t integer(const std::string& sql);
    std::string text(const std::string& sql);

private:
    sqlite3* db_ = nullptr;
};

// The common case: a temporary directory, a private bus and healerd on it.
struct DaemonEnvironment {
    explicit DaemonEnvironment(BusPolicy policy = {});
    TempDir dir;
    PrivateBus bus;
    Healerd healerd;
};

}  // namespace heal::integration
