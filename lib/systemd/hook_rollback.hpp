#pragma once
// The rollback executor: runs the operator's rollback hook for the failed
// unit as a transient service of its own (StartTransientUnit, as systemd-run
// does). The hook's privileges, journal output and time limit are then
// systemd's, and healerd itself stays sandboxed.
//
// The hook is configured, never implied: `hook` names either one executable
// for every unit, or a directory holding one executable per unit, named
// exactly like the unit (/etc/healerd/rollback.d/nginx.service). No hook, no
// rollback.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recovery/executor.hpp"
#include "systemd/dpkg_records.hpp"
#include "systemd/systemd_manager.hpp"

namespace heal {

// Why a hook cannot run; what() names the file and the problem.
class HookError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The hook to run for `unit`. Throws HookError when there is none, or when it
// is not a regular executable file owned by root (or by the user healerd runs
// as) and writable by nobody else: it runs with systemd's privileges.
std::filesystem::path resolve_hook(const std::filesystem::path& configured, const std::string& unit);

// What the hook finds in its environment (argv[1] is the unit as well):
// HEALERD_UNIT, HEALERD_FAILURE_KIND, HEALERD_REASON, and, when dpkg
// recorded a version change of the package owning the unit's program,
// HEALERD_PACKAGE, HEALERD_PREVIOUS_VERSION and HEALERD_VERSION.
std::vector<std::string> hook_environment(const RecoveryRequest& request,
                                          const std::optional<PackageUpgrade>& upgrade = std::nullopt);

// "healerd-rollback-nginx-1732760000123456.service": unique per run.
std::string hook_unit_name(const std::string& unit);

// One line about how the hook's service ended.
std::string describe_hook_exit(const std::filesystem::path& hook, const std::string& service,
                               const systemd::ServiceExit& exit, std::chrono::seconds timeout);

struct RollbackOptions {
    std::filesystem::path hook = "/etc/healerd/rollback.d";
    std::chrono::seconds timeout{300};  // RuntimeMaxSec= of the hook's service
    bool dry_run = false;
};

class HookRollbackExecutor final : public Executor {
public:
    HookRollbackExecutor(systemd::BusScope scope, RollbackOptions options);
    Action action() const override { return Action::rollback; }
    // No hook for the unit (or one that may not run): no rollback.
    std::optional<std::string> unavailable(const RecoveryRequest& request) override;
    // ok when the hook exits 0; detail names the hook, its service and its end.
    ExecutionResult execute(const RecoveryRequest& request) override;

private:
    // The newest version change of the package owning the unit's program.
    std::optional<PackageUpgrade> package_upgrade(systemd::Manager& manager, const std::string& unit);

    systemd::BusScope scope_;
    RollbackOptions options_;
    std::mutex dpkg_mutex_;  // rollbacks of different units may run at once
    DpkgRecords dpkg_;
};

}  // namespace heal
