#include "systemd/systemd_executors.hpp"

#include "core/limit_text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace heal {
namespace {

constexpr const char* kMemoryMax = "MemoryMax";
constexpr const char* kMemoryHigh = "MemoryHigh";
constexpr const char* kCpuQuota = "CPUQuotaPerSecUSec";

ExecutionResult failure(std::string detail) { return {false, std::move(detail)}; }

constexpr const char* kMachineObserved = "healerd acts on units only; the machine is observed, not recovered";

ExecutionResult needs_unit(Action action) {
    return failure(fmt::format("{} needs a unit; it cannot act on the whole machine", to_string(action)));
}


ResourceLimits read_limits(systemd::Manager& manager, const std::string& unit, const std::string& interface) {
    const auto path = manager.load_unit(unit);
    ResourceLimits limits;
    limits.memory_max = manager.u64_property(path, interface, kMemoryMax);
    limits.memory_high = manager.u64_property(path, interface, kMemoryHigh);
    limits.cpu_quota_per_sec_usec = manager.u64_property(path, interface, kCpuQuota);
    return limits;
}

void set_limits(systemd::BusScope scope, const std::string& unit, const std::vector<LimitChange>& changes) {
    std::vector<std::pair<std::string, std::uint64_t>> properties;
    for (const auto& change : changes) properties.emplace_back(change.property, change.to);
    systemd::Manager(scope).set_runtime_properties(unit, properties);
}

}  // namespace

SystemdRestartExecutor::SystemdRestartExecutor(systemd::BusScope scope, bool dry_run,
                                               std::chrono::seconds job_timeout)
    : scope_(scope), dry_run_(dry_run), job_timeout_(job_timeout) {}

std::optional<std::string> SystemdRestartExecutor::unavailable(const RecoveryRequest& request) {
    if (request.unit.empty()) return needs_unit(action()).detail;
    try {
        systemd::Manager manager(scope_);
        const std::string state = manager.string_property(manager.load_unit(request.unit), "Unit", "LoadState");
        if (state == "loaded") return std::nullopt;
        return fmt::format("systemd cannot start {} (LoadState={})", request.unit, state);
    } catch (const systemd::Error& error) {
        return error.what();
    }
}

ExecutionResult SystemdRestartExecutor::execute(const RecoveryRequest& request) {
    if (request.unit.empty()) return needs_unit(action());
    if (dry_run_) return {true, fmt::format("dry-run: would restart {}", request.unit)};
    try {
        systemd::Manager manager(scope_);
        const auto result = manager.restart_unit(request.unit, job_timeout_);
        if (result != "done") return failure(fmt::format("restart of {} failed: job result '{}'", request.unit, result));
        return {true, fmt::format("restarted {}", request.unit)};
    } catch (const systemd::Error& error) {
        return failure(error.what());
    }
}

std::optional<std::uint64_t> raised_limit(std::uint64_t current, double factor,
                                          std::optional<std::uint64_t> ceiling) {
    if (current == systemd::kInfinity || !(factor > 1.0)) return std::nullopt;
    const long double product = std::ceil(static_cast<long double>(current) * factor);
    std::uint64_t raised = product >= static_cast<long double>(systemd::kInfinity - 1)
                               ? systemd::kInfinity - 1
                               : static_cast<std::uint64_t>(product);
    if (ceiling) raised = std::min(raised, *ceiling);
    if (raised <= current) return std::nullopt;
    return raised;
}

std::uint64_t quota_usec(double percent) { return static_cast<std::uint64_t>(percent * 10000.0); }

std::optional<std::uint64_t> ceiling_value(const LimitCeiling& ceiling, std::uint64_t configured,
                                           double per_absolute) {
    long double value = 0.0;
    switch (ceiling.kind) {
    case LimitCeiling::Kind::unlimited: return std::nullopt;
    case LimitCeiling::Kind::multiple: value = static_cast<long double>(configured) * ceiling.value; break;
    case LimitCeiling::Kind::absolute: value = static_cast<long double>(ceiling.value) * per_absolute; break;
    }
    if (value >= static_cast<long double>(systemd::kInfinity - 1)) return systemd::kInfinity - 1;
    return static_cast<std::uint64_t>(std::floor(value));
}

ScaleUpPlan plan_scale_up(const RecoveryRequest& request, const ResourceLimits& current, double factor) {
    struct Candidate {
        const char* property;
        std::uint64_t value;
        const LimitCeiling& ceiling;
        double per_absolute;  // bytes per byte, or CPU time per % of one CPU
    };
    const bool memory = request.kind != FailureKind::cpu_runaway;
    const bool cpu = request.kind != FailureKind::memory_leak;
    std::vector<Candidate> candidates;
    if (memory) {
        candidates.push_back({kMemoryMax, current.memory_max, request.ceilings.memory, 1.0});
        candidates.push_back({kMemoryHigh, current.memory_high, request.ceilings.memory, 1.0});
    }
    if (cpu) candidates.push_back({kCpuQuota, current.cpu_quota_per_sec_usec, request.ceilings.cpu_quota, 10000.0});

    ScaleUpPlan plan;
    std::vector<std::string> kept;
    for (const auto& candidate : candidates) {
        const std::string name = limit_name(candidate.property);
        // Raised before and not restored: the ceiling stays a multiple of what the operator configured.
        const auto earlier = std::find_if(request.raised.begin(), request.raised.end(),
                                          [&](const LimitChange& c) { return c.property == candidate.property; });
        const std::uint64_t configured = earlier == request.raised.end() ? candidate.value : earlier->from;
        const auto ceiling = ceiling_value(candidate.ceiling, configured, candidate.per_absolute);
        if (candidate.value == systemd::kInfinity) {
            kept.push_back(name + " not set");
        } else if (auto raised = raised_limit(candidate.value, factor, ceiling)) {
            plan.changes.push_back({candidate.property, candidate.value, *raised});
        } else {
            kept.push_back(fmt::format("{} {} already at its ceiling", name, format_limit(candidate.property, candidate.value)));
        }
    }
    if (plan.changes.empty()) plan.why_not = fmt::format("{}", fmt::join(kept, ", "));
    return plan;
}

RestorePlan plan_restore(const std::vector<LimitChange>& raised, const ResourceLimits& current) {
    RestorePlan plan;
    for (const LimitChange& change : raised) {
        std::uint64_t now = systemd::kInfinity;
        if (change.property == kMemoryMax) now = current.memory_max;
        else if (change.property == kMemoryHigh) now = current.memory_high;
        else if (change.property == kCpuQuota) now = current.cpu_quota_per_sec_usec;
        if (now == change.to) {
            plan.changes.push_back({change.property, now, change.from});
        } else {
            plan.kept.push_back(fmt::format("{} {} (changed since healerd raised it to {})", limit_name(change.property),
                                            format_limit(change.property, now),
                                            format_limit(change.property, change.to)));
        }
    }
    return plan;
}



SystemdScaleUpExecutor::SystemdScaleUpExecutor(systemd::BusScope scope, bool dry_run, double factor)
    : scope_(scope), dry_run_(dry_run), factor_(factor) {}

ScaleUpPlan SystemdScaleUpExecutor::plan_for(const RecoveryRequest& request, const std::string& interface) const {
    systemd::Manager manager(scope_);
    return plan_scale_up(request, read_limits(manager, request.unit, interface), factor_);
}

std::optional<std::string> SystemdScaleUpExecutor::unavailable(const RecoveryRequest& request) {
    if (request.unit.empty()) return needs_unit(action()).detail;
    const auto interface = systemd::resource_interface(request.unit);
    if (!interface) return fmt::format("{} has no cgroup limits to raise", request.unit);
    try {
        const auto plan = plan_for(request, *interface);
        if (plan.changes.empty()) return fmt::format("nothing to raise for {}: {}", to_string(request.kind), plan.why_not);
        return std::nullopt;
    } catch (const systemd::Error& error) {
        return error.what();
    }
}

ExecutionResult SystemdScaleUpExecutor::execute(const RecoveryRequest& request) {
    if (request.unit.empty()) return needs_unit(action());
    const auto interface = systemd::resource_interface(request.unit);
    if (!interface) return failure(fmt::format("{} has no cgroup limits to raise", request.unit));
    try {
        const auto plan = plan_for(request, *interface);
        if (plan.changes.empty()) {
            return failure(fmt::format("nothing to raise on {} for {}: {}", request.unit, to_string(request.kind),
                                       plan.why_not));
        }
        if (dry_run_) return {true, fmt::format("dry-run: would set {} on {}", describe(plan.changes), request.unit)};
        set_limits(scope_, request.unit, plan.changes);
        return {true, fmt::format("{} on {} (runtime)", describe(plan.changes), request.unit), plan.changes};
    } catch (const systemd::Error& error) {
        return failure(error.what());
    }
}

SystemdLimitRestorer::SystemdLimitRestorer(systemd::BusScope scope, bool dry_run) : scope_(scope), dry_run_(dry_run) {}

ExecutionResult SystemdLimitRestorer::restore(const std::string& unit, const std::vector<LimitChange>& raised) {
    const auto interface = systemd::resource_interface(unit);
    if (!interface) return failure(fmt::format("{} has no cgroup limits", unit));
    try {
        systemd::Manager manager(scope_);
        const RestorePlan plan = plan_restore(raised, read_limits(manager, unit, *interface));
        const std::string kept = plan.kept.empty() ? "" : fmt::format("; left alone: {}", fmt::join(plan.kept, ", "));
        if (plan.changes.empty()) return {true, fmt::format("nothing to restore on {}{}", unit, kept)};
        if (dry_run_) return {true, fmt::format("dry-run: would set {} on {}{}", describe(plan.changes), unit, kept)};
        set_limits(scope_, unit, plan.changes);
        return {true, fmt::format("{} on {} (runtime){}", describe(plan.changes), unit, kept), plan.changes};
    } catch (const systemd::Error& error) {
        return failure(error.what());
    }
}

SystemdAlerter::SystemdAlerter(systemd::BusScope scope, std::chrono::milliseconds timeout)
    : scope_(scope), timeout_(timeout) {
    const char* runtime = scope == systemd::BusScope::user ? std::getenv("XDG_RUNTIME_DIR") : nullptr;
    directory_ = std::filesystem::path(runtime && *runtime ? runtime : "/run") / "healerd";
}

ExecutionResult SystemdAlerter::send(const Alert& alert) {
    try {
        std::filesystem::create_directories(directory_);
        write_alert_environment(directory_, alert);
        const std::string job = systemd::Manager(scope_).start_unit(alert.unit, timeout_);
        if (job == "done") return {true, fmt::format("{} ran", alert.unit)};
        return failure(fmt::format("{} did not run: its start job ended \"{}\"", alert.unit, job));
    } catch (const std::exception& error) {
        return failure(error.what());
    }
}

std::optional<std::string> DoNothingExecutor::unavailable(const RecoveryRequest& request) {
    if (request.unit.empty()) return std::string(kMachineObserved);
    return std::nullopt;
}

ExecutionResult DoNothingExecutor::execute(const RecoveryRequest& request) {
    if (request.unit.empty()) return failure(kMachineObserved);
    return {true, fmt::format("no action; observing {}", request.unit)};
}

}  // namespace heal
