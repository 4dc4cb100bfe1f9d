#pragma once
// The real restart, scale_up and do_nothing executors, acting through
// systemd's Manager API. Each execute() opens its own bus connection, so
// recoveries of different units can run at once.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "recovery/backend.hpp"
#include "systemd/systemd_manager.hpp"

namespace heal {

// restart: RestartUnit(unit, "replace") and the job's result.
class SystemdRestartExecutor final : public Executor {
public:
    SystemdRestartExecutor(systemd::BusScope scope, bool dry_run,
                           std::chrono::seconds job_timeout = std::chrono::minutes(5));
    Action action() const override { return Action::restart; }
    // A unit systemd does not know, or one masked, cannot be started.
    std::optional<std::string> unavailable(const RecoveryRequest& request) override;
    ExecutionResult execute(const RecoveryRequest& request) override;

private:
    systemd::BusScope scope_;
    bool dry_run_;
    std::chrono::seconds job_timeout_;
};

// A unit's cgroup limits as systemd reports them; systemd::kInfinity = not set.
struct ResourceLimits {
    std::uint64_t memory_max = systemd::kInfinity;          // bytes
    std::uint64_t memory_high = systemd::kInfinity;         // bytes
    std::uint64_t cpu_quota_per_sec_usec = systemd::kInfinity;  // 500000 = CPUQuota=50%
};

struct ScaleUpPlan {
    std::vector<LimitChange> changes;  // empty when nothing can be raised
    std::string why_not;               // for an empty plan: each limit and why it stays
};

// `current` multiplied by `factor`, capped at `ceiling`; nullopt when the
// limit is not set or cannot go higher.
std::optional<std::uint64_t> raised_limit(std::uint64_t current, double factor,
                                          std::optional<std::uint64_t> ceiling);

// CPUQuota= percent as systemd stores it: CPU time per second of wall time.
std::uint64_t quota_usec(double percent);

// The highest value `ceiling` allows for a limit configured at `configured`
// (in the property's own unit; `per_absolute` converts an absolute ceiling
// to it); nullopt: no ceiling.
std::optional<std::uint64_t> ceiling_value(const LimitCeiling& ceiling, std::uint64_t configured,
                                           double per_absolute);

// Which limits a failure calls for (memory_leak: MemoryMax and MemoryHigh;
// cpu_runaway: CPUQuota; anything else: all three) and their new values,
// `current` times `factor` within the request's ceilings. A limit healerd
// raised before (request.raised) keeps its configured value as the base of
// a multiple ceiling. Only limits the unit already has are raised.
ScaleUpPlan plan_scale_up(const RecoveryRequest& request, const ResourceLimits& current, double factor);

// What putting back `raised` would change: each limit still at the value
// healerd set goes back to its configured value; one changed since (by the
// operator) is left alone and named in `kept`.
struct RestorePlan {
    std::vector<LimitChange> changes;  // from the current value back to the configured one
    std::vector<std::string> kept;     // "MemoryMax 500M (changed since healerd raised it)"
};
RestorePlan plan_restore(const std::vector<LimitChange>& raised, const ResourceLimits& current);

// scale_up: raises the unit's limits with SetUnitProperties(runtime=true).
class SystemdScaleUpExecutor final : public Executor {
public:
    SystemdScaleUpExecutor(systemd::BusScope scope, bool dry_run, double factor);
    Action action() const override { return Action::scale_up; }
    // Only where a limit exists that is below its ceiling.
    std::optional<std::string> unavailable(const RecoveryRequest& request) override;
    ExecutionResult execute(const RecoveryRequest& request) override;

private:
    // What scale_up would change on the unit; throws systemd::Error.
    ScaleUpPlan plan_for(const RecoveryRequest& request, const std::string& interface) const;

    systemd::BusScope scope_;
    bool dry_run_;
    double factor_;
};

// Puts raised limits back with SetUnitProperties(runtime=true).
class SystemdLimitRestorer final : public LimitRestorer {
public:
    SystemdLimitRestorer(systemd::BusScope scope, bool dry_run);
    ExecutionResult restore(const std::string& unit, const std::vector<LimitChange>& raised) override;

private:
    systemd::BusScope scope_;
    bool dry_run_;
};

// OnGiveUp=: starts the alert's unit, its environment written where the
// template reads it (%t/healerd: /run/healerd, or $XDG_RUNTIME_DIR/healerd for
// the user manager), and waits up to `timeout` for it to run.
class SystemdAlerter final : public Alerter {
public:
    SystemdAlerter(systemd::BusScope scope, std::chrono::milliseconds timeout);
    ExecutionResult send(const Alert& alert) override;

private:
    systemd::BusScope scope_;
    std::chrono::milliseconds timeout_;
    std::filesystem::path directory_;
};

// do_nothing: changes nothing on a unit; the daemon's validation does the
// waiting and observing. Not on the machine: a real host is observed, never
// recovered, so a machine-wide failure is never an attempt of any action.
class DoNothingExecutor final : public Executor {
public:
    Action action() const override { return Action::do_nothing; }
    std::optional<std::string> unavailable(const RecoveryRequest& request) override;
    ExecutionResult execute(const RecoveryRequest& request) override;
};

}  // namespace heal
