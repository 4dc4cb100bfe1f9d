#include "systemd/systemd_executors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>

namespace heal {
namespace {

constexpr const char* kMemoryMax = "MemoryMax";
constexpr const char* kMemoryHigh = "MemoryHigh";
constexpr const char* kCpuQuota = "CPUQuotaPerSecUSec";

ExecutionResult failure(std::string detail) { return {false, std::move(detail)}; }

ExecutionResult needs_unit(Action action) {
    return failure(fmt::format("{} needs a unit; it cannot act on the whole machine", to_string(action)));
}

std::string format_value(const std::string& property, std::uint64_t value) {
    if (property == kCpuQuota) return fmt::format("{:g}%", static_cast<double>(value) / 10000.0);
    return format_bytes(value);
}

// The name an operator knows from unit files.
std::string display_name(const std::string& property) { return property == kCpuQuota ? "CPUQuota" : property; }

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

std::optional<std::uint64_t> quota_usec(std::optional<double> percent) {
    if (!percent) return std::nullopt;
    return static_cast<std::uint64_t>(*percent * 10000.0);
}

ScaleUpOptions for_request(ScaleUpOptions options, const RecoveryRequest& request) {
    if (request.ceilings) {
        options.memory_ceiling = request.ceilings->memory_bytes;
        options.cpu_quota_ceiling_usec = quota_usec(request.ceilings->cpu_quota_percent);
    }
    return options;
}

ScaleUpPlan plan_scale_up(FailureKind kind, const ResourceLimits& current, const ScaleUpOptions& options) {
    struct Candidate {
        const char* property;
        std::uint64_t value;
        std::optional<std::uint64_t> ceiling;
    };
    const bool memory = kind != FailureKind::cpu_runaway;
    const bool cpu = kind != FailureKind::memory_leak;
    std::vector<Candidate> candidates;
    if (memory) {
        candidates.push_back({kMemoryMax, current.memory_max, options.memory_ceiling});
        candidates.push_back({kMemoryHigh, current.memory_high, options.memory_ceiling});
    }
    if (cpu) candidates.push_back({kCpuQuota, current.cpu_quota_per_sec_usec, options.cpu_quota_ceiling_usec});

    ScaleUpPlan plan;
    std::vector<std::string> kept;
    for (const auto& candidate : candidates) {
        const std::string name = display_name(candidate.property);
        if (candidate.value == systemd::kInfinity) {
            kept.push_back(name + " not set");
        } else if (auto raised = raised_limit(candidate.value, options.factor, candidate.ceiling)) {
            plan.changes.push_back({candidate.property, candidate.value, *raised});
        } else {
            kept.push_back(fmt::format("{} {} already at its ceiling", name, format_value(candidate.property, candidate.value)));
        }
    }
    if (plan.changes.empty()) plan.why_not = fmt::format("{}", fmt::join(kept, ", "));
    return plan;
}

std::string describe(const std::vector<LimitChange>& changes) {
    std::vector<std::string> parts;
    for (const auto& change : changes) {
        parts.push_back(fmt::format("{} {} -> {}", display_name(change.property),
                                    format_value(change.property, change.from), format_value(change.property, change.to)));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr std::array<char, 6> kSuffixes{'K', 'M', 'G', 'T', 'P', 'E'};
    if (bytes < 1024) return fmt::format("{}B", bytes);
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t index = 0;
    while (value >= 1024.0 && index + 1 < kSuffixes.size()) {
        value /= 1024.0;
        ++index;
    }
    // One decimal, dropped when it is zero, as systemctl show does.
    const double tenths = std::round(value * 10.0) / 10.0;
    if (tenths == std::floor(tenths)) return fmt::format("{:.0f}{}", tenths, kSuffixes[index]);
    return fmt::format("{:.1f}{}", tenths, kSuffixes[index]);
}

SystemdScaleUpExecutor::SystemdScaleUpExecutor(systemd::BusScope scope, bool dry_run, ScaleUpOptions options)
    : scope_(scope), dry_run_(dry_run), options_(options) {}

ScaleUpPlan SystemdScaleUpExecutor::plan_for(const RecoveryRequest& request, const std::string& interface) const {
    systemd::Manager manager(scope_);
    const auto path = manager.load_unit(request.unit);
    ResourceLimits current;
    current.memory_max = manager.u64_property(path, interface, kMemoryMax);
    current.memory_high = manager.u64_property(path, interface, kMemoryHigh);
    current.cpu_quota_per_sec_usec = manager.u64_property(path, interface, kCpuQuota);
    return plan_scale_up(request.kind, current, for_request(options_, request));
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
        std::vector<std::pair<std::string, std::uint64_t>> properties;
        for (const auto& change : plan.changes) properties.emplace_back(change.property, change.to);
        systemd::Manager(scope_).set_runtime_properties(request.unit, properties);
        return {true, fmt::format("{} on {} (runtime)", describe(plan.changes), request.unit)};
    } catch (const systemd::Error& error) {
        return failure(error.what());
    }
}

ExecutionResult DoNothingExecutor::execute(const RecoveryRequest& request) {
    return {true, request.unit.empty() ? std::string("no action; observing the machine")
                                       : fmt::format("no action; observing {}", request.unit)};
}

}  // namespace heal
