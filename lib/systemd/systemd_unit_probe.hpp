#pragma once
// Unit liveness and recent deploys, from systemd, dpkg's records and the file system.
//
// A unit counts as active when its ActiveState is active or reloading and its
// main process is not stopped (a SIGSTOPped service answers nothing even
// though systemd still calls it active). It counts as freshly deployed when
// the Debian package owning its ExecStart= program changed version within the
// window (deployed_since); for a program no package owns, when that program
// or its unit file changed (ctime: replacing a file always sets it).
// The control group is systemd's ControlGroup property, known while the unit runs.
#include <chrono>
#include <cstdint>
#include <string>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <sys/types.h>

#include "recovery/backend.hpp"
#include "systemd/dpkg_records.hpp"
#include "systemd/systemd_manager.hpp"

namespace heal {

// Whether /proc/<pid>/stat under `proc_root` shows state T (stopped by a
// signal). False when the process is gone or the file is unreadable.
bool process_stopped(const std::filesystem::path& proc_root, pid_t pid);

// Whether any of `files` had its inode changed at or after `since`. Missing
// files are skipped.
bool changed_since(const std::vector<std::filesystem::path>& files, std::chrono::system_clock::time_point since);

// Where `systemctl set-property` writes a manager's unit settings: for the
// system manager /run/systemd/system.control (--runtime) and
// /etc/systemd/system.control; for a user's, the same under
// $XDG_RUNTIME_DIR/systemd/user.control and ~/.config/systemd/user.control.
std::vector<std::filesystem::path> control_roots(systemd::BusScope scope);

// A value that changes whenever a file is added to, replaced in or removed
// from `unit`'s drop-in directory under any of `roots` (their modification
// times; a missing directory counts as 0).
std::uint64_t drop_in_stamp(const std::vector<std::filesystem::path>& roots, const std::string& unit);

class SystemdUnitProbe final : public UnitProbe {
public:
    SystemdUnitProbe(systemd::BusScope scope, std::chrono::seconds package_change_window,
                     std::filesystem::path proc_root = "/proc");
    ~SystemdUnitProbe() override;
    // Throws systemd::Error when systemd cannot be asked (after one reconnect).
    UnitState probe(const std::string& unit) override;
    // drop_in_stamp of the manager's control directories: systemd emits no
    // PropertiesChanged for MemoryMax=, MemoryHigh= or CPUQuota=.
    std::uint64_t settings_stamp(const std::string& unit) override;

private:
    UnitState probe_once(const std::string& unit);

    systemd::BusScope scope_;
    std::chrono::seconds window_;
    std::filesystem::path proc_root_;
    std::mutex mutex_;
    std::optional<systemd::Manager> manager_;  // one connection, reopened after an error
    std::vector<std::filesystem::path> control_roots_;
    DpkgRecords dpkg_;
};

}  // namespace heal
