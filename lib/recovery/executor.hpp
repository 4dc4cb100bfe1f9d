#pragma once
// Executors carry out one kind of recovery action. The daemon holds one per
// Action; tests and --simulated use fakes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/action.hpp"

namespace heal {

// How far scale_up may raise one limit: a multiple of the unit's configured
// limit (the one it had before healerd raised it), a fixed value, or no
// ceiling at all.
struct LimitCeiling {
    enum class Kind { multiple, absolute, unlimited };
    Kind kind = Kind::multiple;
    double value = 2.0;  // multiple: the factor; absolute: bytes, or % of one CPU for CPUQuota

    static LimitCeiling multiple(double factor) { return {Kind::multiple, factor}; }
    static LimitCeiling absolute(double value) { return {Kind::absolute, value}; }
    static LimitCeiling unlimited() { return {Kind::unlimited, 0.0}; }
    bool operator==(const LimitCeiling&) const = default;
};

// The default: twice the unit's configured limit.
struct LimitCeilings {
    LimitCeiling memory{};     // MemoryMax and MemoryHigh
    LimitCeiling cpu_quota{};  // CPUQuota

    bool operator==(const LimitCeilings&) const = default;
};

// One cgroup limit changed by healerd: its systemd property name and the
// values before and after.
struct LimitChange {
    std::string property;  // "MemoryMax", "MemoryHigh", "CPUQuotaPerSecUSec"
    std::uint64_t from = 0;
    std::uint64_t to = 0;

    bool operator==(const LimitChange&) const = default;
};

// "MemoryMax 128M -> 192M, CPUQuota 50% -> 75%".
std::string describe(const std::vector<LimitChange>& changes);

struct RecoveryRequest {
    std::string unit;                 // "" means the whole machine
    FailureKind kind = FailureKind::transient;
    std::string reason;               // detector's explanation, for hooks and logs
    LimitCeilings ceilings{};  // the unit's (units.d), else [Recovery]'s
    // Limits healerd raised earlier and has not restored yet: their `from`
    // is the configured limit the ceilings are multiples of.
    std::vector<LimitChange> raised{};
};

struct ExecutionResult {
    bool ok = false;          // the action itself succeeded (not yet "recovered")
    std::string detail;       // e.g. "MemoryMax 256M -> 384M", or the error
    std::vector<LimitChange> limit_changes{};  // what scale_up raised
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
