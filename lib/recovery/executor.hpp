#pragma once
// Executors carry out one kind of recovery action. The daemon holds one per
// Action; tests and --simulated use fakes.
#include <optional>
#include <string>

#include "core/action.hpp"

namespace heal {

// How far scale_up may raise a unit's limits; absent = no ceiling.
struct LimitCeilings {
    std::optional<std::uint64_t> memory_bytes;  // MemoryMax and MemoryHigh
    std::optional<double> cpu_quota_percent;    // CPUQuota, % of one CPU (200 = two CPUs)

    bool operator==(const LimitCeilings&) const = default;
};

struct RecoveryRequest {
    std::string unit;                 // "" means the whole machine
    FailureKind kind = FailureKind::transient;
    std::string reason;               // detector's explanation, for hooks and logs
    // The unit's own ceilings (units.d), else the executor's configured ones.
    std::optional<LimitCeilings> ceilings{};
};

struct ExecutionResult {
    bool ok = false;          // the action itself succeeded (not yet "recovered")
    std::string detail;       // e.g. "MemoryMax 256M -> 384M", or the error
};

// execute() may block for seconds (waiting on systemd, a hook, a timeout);
// the daemon calls it off its event loop.
class Executor {
public:
    virtual ~Executor() = default;
    virtual Action action() const = 0;
    // Why this action cannot act on the request's target now (no unit, no
    // hook for it, no limit left to raise, a unit systemd cannot start), or
    // nullopt. Asked before the policy chooses, so an action that cannot act
    // is never offered; may block like execute().
    virtual std::optional<std::string> unavailable(const RecoveryRequest& request) = 0;
    virtual ExecutionResult execute(const RecoveryRequest& request) = 0;
};

}  // namespace heal
