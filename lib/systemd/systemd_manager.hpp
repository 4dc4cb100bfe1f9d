#pragma once
// A small client of systemd's org.freedesktop.systemd1.Manager over one
// private D-Bus connection: the calls the real executors, the fault injector
// and the unit probe need, with jobs awaited to their JobRemoved signal.
//
// One instance is one connection and is not thread-safe; callers open one per
// operation or guard a shared one. sd-bus stays inside the .cpp.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace heal::systemd {

enum class BusScope { system, user };

// A failed D-Bus call or an unreachable systemd. what() names the call, the
// unit and systemd's own message.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A command run as a transient service (StartTransientUnit, as systemd-run does).
struct TransientService {
    std::string name;         // "healerd-rollback-....service"
    std::string description;
    std::vector<std::string> argv;         // argv[0] is an absolute path
    std::vector<std::string> environment;  // "KEY=value"
    std::chrono::seconds runtime_max{0};   // RuntimeMaxSec=; 0 = no limit
    std::string syslog_identifier;
};

// How a finished service ended, from its Service properties.
struct ServiceExit {
    std::string result;      // "success", "exit-code", "signal", "timeout", ...
    int code = 0;            // ExecMainCode: 1 exited, 2 killed, 3 dumped
    int status = 0;          // exit status or signal number
};

inline constexpr std::uint64_t kInfinity = UINT64_MAX;  // systemd's "no limit" for limits

class Manager {
public:
    explicit Manager(BusScope scope = BusScope::system);
    ~Manager();
    Manager(Manager&&) noexcept;
    Manager& operator=(Manager&&) noexcept;

    std::string version();

    // The unit's object path if it is loaded, else nullopt (GetUnit).
    std::optional<std::string> find_unit(const std::string& unit);
    // The unit's object path, loading it from disk if needed (LoadUnit).
    std::string load_unit(const std::string& unit);

    // Properties of a unit object; `interface` is a short name: "Unit",
    // "Service", ... ("org.freedesktop.systemd1." is prepended).
    std::string string_property(const std::string& path, const std::string& interface, const std::string& name);
    std::uint64_t u64_property(const std::string& path, const std::string& interface, const std::string& name);
    std::uint32_t u32_property(const std::string& path, const std::string& interface, const std::string& name);
    std::int32_t i32_property(const std::string& path, const std::string& interface, const std::string& name);
    // The program paths of a service's ExecStart= lines.
    std::vector<std::string> exec_start_paths(const std::string& path);

    // RestartUnit(unit, "replace"), then waits for its job to be removed and
    // returns the job's result: "done" on success, else "failed", "timeout",
    // "canceled", "dependency" or "skipped". Throws on timeout.
    std::string restart_unit(const std::string& unit, std::chrono::milliseconds timeout);
    // StartUnit(unit, "replace"), awaited the same way.
    std::string start_unit(const std::string& unit, std::chrono::milliseconds timeout);

    // KillUnit(unit, whom, signal); whom is "main", "control" or "all".
    void kill_unit(const std::string& unit, const std::string& whom, int signal);

    // SetUnitProperties(unit, runtime=true, ...) with unsigned values, e.g.
    // {"MemoryMax", bytes}. Runtime only: a reboot restores the unit file's.
    void set_runtime_properties(const std::string& unit,
                                const std::vector<std::pair<std::string, std::uint64_t>>& properties);

    // Starts `service` (Type=exec, referenced by this connection so it stays
    // loaded until it has been read), waits for it to finish, then releases it
    // to be garbage-collected. Throws when it does not finish within `timeout`.
    ServiceExit run_transient(const TransientService& service, std::chrono::milliseconds timeout);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The cgroup-owning unit types' property interface ("Service", "Scope",
// "Slice", "Socket", "Mount", "Swap"), or nullopt for e.g. ".target".
std::optional<std::string> resource_interface(const std::string& unit);

// A name safe inside a unit name: characters outside [A-Za-z0-9:_.-] become '_'.
std::string unit_name_fragment(const std::string& text);

// Whether a systemd manager of that scope is running here (sd_booted, or the
// user's bus socket for BusScope::user).
bool manager_available(BusScope scope);

}  // namespace heal::systemd
