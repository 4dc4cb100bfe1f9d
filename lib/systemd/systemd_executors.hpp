#pragma once
// The real restart, scale_up and do_nothing executors, acting through
// systemd's Manager API. Each execute() opens its own bus connection, so
// recoveries of different units can run at once.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recovery/executor.hpp"
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

struct ScaleUpOptions {
    double factor = 1.5;
    std::optional<std::uint64_t> memory_ceiling;           // bytes, for MemoryMax and MemoryHigh
    std::optional<std::uint64_t> cpu_quota_ceiling_usec;   // CPU time per second
};

// One property raised: its systemd name and old and new values.
struct LimitChange {
    std::string property;  // "MemoryMax", "MemoryHigh", "CPUQuotaPerSecUSec"
    std::uint64_t from = 0;
    std::uint64_t to = 0;
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
std::optional<std::uint64_t> quota_usec(std::optional<double> percent);

// `options` with the request's own ceilings, when it has them.
ScaleUpOptions for_request(ScaleUpOptions options, const RecoveryRequest& request);

// Which limits a failure calls for (memory_leak: MemoryMax and MemoryHigh;
// cpu_runaway: CPUQuota; anything else: all three) and their new values.
// Only limits the unit already has are raised.
ScaleUpPlan plan_scale_up(FailureKind kind, const ResourceLimits& current, const ScaleUpOptions& options);

// "MemoryMax 128M -> 192M, CPUQuota 50% -> 75%".
std::string describe(const std::vector<LimitChange>& changes);

// systemd's way of writing sizes: 1024-based, "128M", "1.5G".
std::string format_bytes(std::uint64_t bytes);

// scale_up: raises the unit's limits with SetUnitProperties(runtime=true).
class SystemdScaleUpExecutor final : public Executor {
public:
    SystemdScaleUpExecutor(systemd::BusScope scope, bool dry_run, ScaleUpOptions options);
    Action action() const override { return Action::scale_up; }
    // Only where a limit exists that is below its ceiling.
    std::optional<std::string> unavailable(const RecoveryRequest& request) override;
    ExecutionResult execute(const RecoveryRequest& request) override;

private:
    // What scale_up would change on the unit; throws systemd::Error.
    ScaleUpPlan plan_for(const RecoveryRequest& request, const std::string& interface) const;

    systemd::BusScope scope_;
    bool dry_run_;
    ScaleUpOptions options_;
};

// do_nothing: changes nothing; the daemon's validation does the waiting and observing.
class DoNothingExecutor final : public Executor {
public:
    Action action() const override { return Action::do_nothing; }
    std::optional<std::string> unavailable(const RecoveryRequest&) override { return std::nullopt; }
    ExecutionResult execute(const RecoveryRequest& request) override;
};

}  // namespace heal
