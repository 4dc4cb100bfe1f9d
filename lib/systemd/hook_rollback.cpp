#include "systemd/hook_rollback.hpp"

#include <fmt/format.h>
#include <string.h>  // sigabbrev_np
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace heal {
namespace {

// The hook's service gets this long beyond RuntimeMaxSec= to be stopped.
constexpr std::chrono::seconds kStopMargin{30};

}  // namespace

std::filesystem::path resolve_hook(const std::filesystem::path& configured, const std::string& unit) {
    namespace fs = std::filesystem;
    if (configured.empty()) throw HookError("no rollback hook is configured");
    std::error_code error;
    fs::path hook = configured;
    if (fs::is_directory(configured, error)) {
        if (unit.empty() || unit.find('/') != std::string::npos || unit == "." || unit == "..") {
            throw HookError(fmt::format("no rollback hook in {} for '{}'", configured.string(), unit));
        }
        hook = configured / unit;
    }
    struct stat st {};
    if (stat(hook.c_str(), &st) < 0) {
        if (errno == ENOENT) throw HookError(fmt::format("no rollback hook for {}: {} does not exist", unit, hook.string()));
        throw HookError(fmt::format("rollback hook {}: {}", hook.string(), std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) throw HookError(fmt::format("rollback hook {} is not a regular file", hook.string()));
    if ((st.st_mode & S_IXUSR) == 0) throw HookError(fmt::format("rollback hook {} is not executable", hook.string()));
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        throw HookError(fmt::format("rollback hook {} is owned by uid {}, not root; refusing to run it", hook.string(),
                                    st.st_uid));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw HookError(fmt::format("rollback hook {} is writable by group or others; refusing to run it",
                                    hook.string()));
    }
    return hook;
}

std::vector<std::string> hook_environment(const RecoveryRequest& request, const std::optional<PackageUpgrade>& upgrade) {
    std::vector<std::string> environment{"HEALERD_UNIT=" + request.unit,
                                         fmt::format("HEALERD_FAILURE_KIND={}", to_string(request.kind)),
                                         "HEALERD_REASON=" + request.reason};
    if (upgrade) {
        environment.push_back("HEALERD_PACKAGE=" + upgrade->package);
        environment.push_back("HEALERD_PREVIOUS_VERSION=" + upgrade->from);
        environment.push_back("HEALERD_VERSION=" + upgrade->to);
    }
    return environment;
}

std::string hook_unit_name(const std::string& unit) {
    static std::atomic<unsigned> counter{0};
    std::string stem = unit;
    if (const auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
    // '@' would make the name a template instance.
    std::string fragment = systemd::unit_name_fragment(stem);
    for (char& c : fragment) {
        if (c == '@') c = '_';
    }
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    fragment.resize(std::min<std::size_t>(fragment.size(), 160));
    return fmt::format("healerd-rollback-{}-{}-{}.service", fragment, usec, counter++);
}

std::string describe_hook_exit(const std::filesystem::path& hook, const std::string& service,
                               const systemd::ServiceExit& exit, std::chrono::seconds timeout) {
    constexpr int kKilled = 2;  // CLD_KILLED
    constexpr int kDumped = 3;  // CLD_DUMPED
    const std::string who = fmt::format("rollback hook {} ({})", hook.string(), service);
    if (exit.result == "success") return who + " succeeded";
    if (exit.result == "timeout") return fmt::format("{} timed out after {}s", who, timeout.count());
    if (exit.code == kKilled || exit.code == kDumped) {
        const char* name = sigabbrev_np(exit.status);
        return fmt::format("{} was killed by signal {}", who, name ? fmt::format("SIG{}", name) : std::to_string(exit.status));
    }
    if (exit.result == "exit-code") return fmt::format("{} exited with status {}", who, exit.status);
    return fmt::format("{} failed: {}", who, exit.result);
}

HookRollbackExecutor::HookRollbackExecutor(systemd::BusScope scope, RollbackOptions options)
    : scope_(scope), options_(std::move(options)) {}

namespace {
constexpr const char* kNeedsUnit = "rollback needs a unit; it cannot act on the whole machine";
}  // namespace

std::optional<std::string> HookRollbackExecutor::unavailable(const RecoveryRequest& request) {
    if (request.unit.empty()) return kNeedsUnit;
    try {
        resolve_hook(options_.hook, request.unit);
        return std::nullopt;
    } catch (const HookError& error) {
        return error.what();
    }
}

std::optional<PackageUpgrade> HookRollbackExecutor::package_upgrade(systemd::Manager& manager, const std::string& unit) {
    const auto path = manager.find_unit(unit);
    if (!path) return std::nullopt;
    const auto programs = manager.exec_start_paths(*path);
    std::lock_guard lock(dpkg_mutex_);
    for (const auto& program : programs)
        if (const auto package = dpkg_.owner(program)) return dpkg_.last_upgrade(*package);
    return std::nullopt;
}

ExecutionResult HookRollbackExecutor::execute(const RecoveryRequest& request) {
    if (request.unit.empty()) return {false, kNeedsUnit};
    std::filesystem::path hook;
    try {
        hook = resolve_hook(options_.hook, request.unit);
    } catch (const HookError& error) {
        return {false, error.what()};
    }
    if (options_.dry_run) return {true, fmt::format("dry-run: would run rollback hook {} for {}", hook.string(), request.unit)};

    systemd::TransientService service;
    service.name = hook_unit_name(request.unit);
    service.description = fmt::format("healerd rollback of {}", request.unit);
    service.argv = {hook.string(), request.unit};
    service.runtime_max = options_.timeout;
    service.syslog_identifier = "healerd-rollback";
    try {
        systemd::Manager manager(scope_);
        service.environment = hook_environment(request, package_upgrade(manager, request.unit));
        const auto exit = manager.run_transient(service, options_.timeout + kStopMargin);
        return {exit.result == "success", describe_hook_exit(hook, service.name, exit, options_.timeout)};
    } catch (const systemd::Error& error) {
        return {false, fmt::format("rollback hook {} for {}: {}", hook.string(), request.unit, error.what())};
    }
}

}  // namespace heal
