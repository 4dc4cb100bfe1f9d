#include "systemd/systemd_unit_probe.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace heal {

bool process_stopped(const std::filesystem::path& proc_root, pid_t pid) {
    std::ifstream file(proc_root / std::to_string(pid) / "stat");
    std::string line;
    if (!std::getline(file, line)) return false;
    // "pid (comm) S ...": comm may itself hold ") ", so the state follows the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return false;
    return line[close + 2] == 'T';
}

bool changed_since(const std::vector<std::filesystem::path>& files, std::chrono::system_clock::time_point since) {
    const auto since_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since.time_since_epoch()).count();
    for (const auto& file : files) {
        struct stat st {};
        if (file.empty() || stat(file.c_str(), &st) < 0) continue;
        const long long ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1'000'000'000LL + st.st_ctim.tv_nsec;
        if (ctime_ns >= since_ns) return true;
    }
    return false;
}

std::vector<std::filesystem::path> control_roots(systemd::BusScope scope) {
    if (scope == systemd::BusScope::system) return {"/run/systemd/system.control", "/etc/systemd/system.control"};
    std::vector<std::filesystem::path> roots;
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime)
        roots.push_back(std::filesystem::path(runtime) / "systemd/user.control");
    if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
        roots.push_back(std::filesystem::path(config) / "systemd/user.control");
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        roots.push_back(std::filesystem::path(home) / ".config/systemd/user.control");
    }
    return roots;
}

std::uint64_t drop_in_stamp(const std::vector<std::filesystem::path>& roots, const std::string& unit) {
    std::uint64_t stamp = 0;
    for (const auto& root : roots) {
        struct stat st {};
        std::uint64_t mtime_ns = 0;
        if (stat((root / (unit + ".d")).c_str(), &st) == 0)
            mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                       static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
        stamp = stamp * 1'000'003ULL + mtime_ns;  // wraps harmlessly: only equality matters
    }
    return stamp;
}

SystemdUnitProbe::SystemdUnitProbe(systemd::BusScope scope, std::chrono::seconds package_change_window,
                                   std::filesystem::path proc_root)
    : scope_(scope), window_(package_change_window), proc_root_(std::move(proc_root)),
      control_roots_(control_roots(scope)) {}

std::uint64_t SystemdUnitProbe::settings_stamp(const std::string& unit) {
    return unit.empty() ? 0 : drop_in_stamp(control_roots_, unit);
}

SystemdUnitProbe::~SystemdUnitProbe() = default;

UnitState SystemdUnitProbe::probe(const std::string& unit) {
    if (unit.empty()) return {};
    std::lock_guard lock(mutex_);
    try {
        return probe_once(unit);
    } catch (const systemd::Error&) {
        // The connection may have died with dbus or systemd being restarted.
        manager_.reset();
        return probe_once(unit);
    }
}

UnitState SystemdUnitProbe::probe_once(const std::string& unit) {
    if (!manager_) manager_.emplace(scope_);
    UnitState state;
    const auto path = manager_->find_unit(unit);
    if (!path) {
        // systemd keeps a failed unit loaded until reset-failed, so one that is
        // not loaded ended cleanly (and was collected) or never ran.
        state.active = false;
        state.stopped = true;
        return state;
    }
    const auto active_state = manager_->string_property(*path, "Unit", "ActiveState");
    state.active = active_state == "active" || active_state == "reloading";
    std::vector<std::filesystem::path> files{manager_->string_property(*path, "Unit", "FragmentPath")};
    std::vector<std::filesystem::path> programs;
    const auto interface = systemd::resource_interface(unit);
    if (interface) {
        // Empty while the unit is stopped: then where it will run is not known yet.
        if (auto group = manager_->string_property(*path, *interface, "ControlGroup"); !group.empty()) {
            state.control_group = std::move(group);
        }
        if (const auto limit = manager_->u64_property(*path, *interface, "MemoryMax"); limit != systemd::kInfinity)
            state.memory_max = limit;
        if (const auto limit = manager_->u64_property(*path, *interface, "MemoryHigh"); limit != systemd::kInfinity)
            state.memory_high = limit;
    }
    if (interface == "Service") {
        state.stopped = (active_state == "inactive" || active_state == "deactivating") &&
                        manager_->string_property(*path, "Service", "Result") == "success";
        state.automatic_restarts = manager_->u32_property(*path, "Service", "NRestarts");
        const auto main_pid = manager_->u32_property(*path, "Service", "MainPID");
        if (state.active && main_pid != 0 && process_stopped(proc_root_, static_cast<pid_t>(main_pid))) {
            state.active = false;
        }
        for (const auto& program : manager_->exec_start_paths(*path)) programs.emplace_back(program);
        files.insert(files.end(), programs.begin(), programs.end());
    }
    state.recent_package_change = deployed_since(dpkg_, programs, files, std::chrono::system_clock::now() - window_);
    return state;
}

}  // namespace heal
