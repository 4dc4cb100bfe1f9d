#include "environment.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace heal::integration {

namespace {

using namespace std::chrono_literals;

constexpr const char* kSessionBusVariable = "DBUS_SESSION_BUS_ADDRESS";
constexpr auto kStartTimeout = 30s;  // generous: the test machine may be busy

std::string bus_config(const std::filesystem::path& socket, BusPolicy policy) {
    std::string deny;
    if (policy.deny_mutating)
        for (const char* member : kMutatingMethods)
            deny += fmt::format(R"(    <deny send_destination="org.healerd.Healer1" send_interface="org.healerd.Healer1" send_member="{}"/>
)",
                                member);
    return fmt::format(R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
{}  </policy>
</busconfig>
)",
                       socket.string(), deny);
}

template <typename Ready>
void wait_for(Ready ready, BackgroundProcess& process, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (!ready()) {
        if (!process.running())
            throw std::runtime_error(fmt::format("{} exited while starting:\n{}", what, process.log_text()));
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error(fmt::format("{} did not start within {} s:\n{}", what, kStartTimeout.count(),
                                                 process.log_text()));
        std::this_thread::sleep_for(50ms);
    }
}

bool name_has_owner(const char* name) {
    sd_bus* bus = nullptr;
    if (sd_bus_open_user(&bus) < 0) return false;
    sd_bus_message* reply = nullptr;
    int owned = 0;
    const int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "NameHasOwner", nullptr, &reply, "s", name);
    if (r >= 0) sd_bus_message_read(reply, "b", &owned);
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return owned != 0;
}

}  // namespace

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* previous = std::getenv(name_.c_str())) previous_ = previous;
    setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
    if (previous_) setenv(name_.c_str(), previous_->c_str(), 1);
    else unsetenv(name_.c_str());
}

PrivateBus::PrivateBus(const std::filesystem::path& dir, BusPolicy policy) {
    // Other uids (healctl as nobody) must reach the socket: traverse only, no listing.
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                          std::filesystem::perms::others_exec);
    const auto socket = dir / "bus";
    const auto config = dir / "bus.conf";
    write_file(config, bus_config(socket, policy));
    const auto log = dir / "dbus-daemon.log";
    daemon_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{DBUS_DAEMON_PATH, "--config-file=" + config.string(), "--nofork", "--print-address=1"},
        log);
    // The address is printed once the socket listens.
    wait_for([&] { return read_file(log).find("unix:") != std::string::npos; }, *daemon_, "dbus-daemon");
    address_ = "unix:path=" + socket.string();
    session_.emplace(kSessionBusVariable, address_);
}

std::string absent_bus_address(const std::filesystem::path& dir) {
    return "unix:path=" + (dir / "no-bus-here").string();
}

NoBus::NoBus(const std::filesystem::path& dir) : session_(kSessionBusVariable, absent_bus_address(dir)) {}

std::string test_config(double heal_chance) {
    return fmt::format(R"([Monitor]
SampleIntervalSec=200ms
Units={0}

# The original design's detector counts samples, so an injected fault is seen
# within a second; the signals judged over time have unit and system tests.
[Detection]
Signals=original
InactiveForSec=400ms

[Recovery]
AutoRecover=no
RecoveryTimeoutSec=3s
CircuitBreakerIntervalSec=0

# Outcomes must not depend on a model retrained with a random seed.
[Learning]
RetrainAfter=0

[Simulation]
Seed=20261203
HealChance=restart:{1} scale_up:{1} rollback:{1} do_nothing:{1}
)",
                       kWatchedUnit, heal_chance);
}

Healerd::Healerd(const std::filesystem::path& dir, const std::string& config)
    : config_file_(dir / "healerd.conf"), database_(dir / "state" / "healerd.db") {
    write_file(config_file_, config);
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{HEALERD_PATH, "--user", "--simulated", "--simulated-metrics", "--state-dir",
                                 database_.parent_path().string(), "--config", config_file_.string()},
        dir / "healerd.log");
    wait_for([] { return name_has_owner("org.healerd.Healer1"); }, *process_, "healerd");
}

Healerd::~Healerd() = default;  // BackgroundProcess stops it

void Healerd::reconfigure(const std::string& config) {
    write_file(config_file_, config);
    process_->signal(SIGHUP);
}

Database::Database(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error(fmt::format("cannot open {}: {}", file.string(), why));
    }
    sqlite3_busy_timeout(db_, 10000);  // healerd writes every tick
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db_)));
}

namespace {

// Runs `sql` and hands its first row to `read`.
template <typename Read>
auto first_row(sqlite3* db, const std::string& sql, Read read) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
        throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db)));
    if (sqlite3_step(statement) != SQLITE_ROW) {
        const std::string why = sqlite3_errmsg(db);
        sqlite3_finalize(statement);
        throw std::runtime_error(fmt::format("{}: no row ({})", sql, why));
    }
    auto value = read(statement);
    sqlite3_finalize(statement);
    return value;
}

}  // namespace

std::int64_t Database::integer(const std::string& sql) {
    return first_row(db_, sql, [](sqlite3_stmt* row) { return std::int64_t{sqlite3_column_int64(row, 0)}; });
}

std::string Database::text(const std::string& sql) {
    return first_row(db_, sql, [](sqlite3_stmt* row) {
        const auto* text = sqlite3_column_text(row, 0);
        return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
    });
}

DaemonEnvironment::DaemonEnvironment(BusPolicy policy) : bus(dir.path(), policy), healerd(dir.path()) {}

}  // namespace heal::integration
