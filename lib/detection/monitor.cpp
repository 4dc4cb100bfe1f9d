#include "detection/monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace heal {
namespace {

bool same_settings(const AdaptiveDetectorConfig& a, const AdaptiveDetectorConfig& b) {
    return a.window == b.window && a.k == b.k && a.min_samples == b.min_samples &&
           a.warmup_threshold == b.warmup_threshold && a.consecutive == b.consecutive && a.floor == b.floor &&
           a.relearn_after == b.relearn_after && a.memory_ceiling == b.memory_ceiling;
}

std::string metric_name(const std::string& unit, const char* metric) {
    return unit.empty() ? std::string(metric) : fmt::format("unit:{}:{}", unit, metric);
}

// A unit that is not running, judged like a metric: anomalous at once, a
// failure after `consecutive` samples in a row.
Verdict absence_verdict(const std::string& unit, std::size_t streak, std::size_t consecutive) {
    Verdict verdict;
    verdict.metric = metric_name(unit, "active");
    verdict.value = 0.0;
    verdict.threshold = 1.0;
    verdict.anomalous = true;
    verdict.failure = streak >= consecutive;
    verdict.reason = verdict.failure || consecutive <= 1
                         ? fmt::format("{} is not running", unit)
                         : fmt::format("{} is not running; {} of {} in a row before failure", unit, streak,
                                       consecutive);
    return verdict;
}

// A unit stopped by the operator, or that exited cleanly, is not a failure.
Verdict stopped_verdict(const std::string& unit) {
    Verdict verdict;
    verdict.metric = metric_name(unit, "active");
    verdict.threshold = 1.0;
    verdict.reason = fmt::format("{} is stopped (inactive, Result=success): not a failure", unit);
    return verdict;
}

// Memory at the ceiling: a failure at once, whatever the window has learned.
Verdict with_ceiling(Verdict verdict, double ceiling) {
    if (!(verdict.value >= ceiling)) return verdict;
    verdict.threshold = ceiling;
    verdict.anomalous = verdict.failure = true;
    verdict.reason = fmt::format("{} {:.1f}% is at or above the {:.1f}% ceiling: at its memory limit", verdict.metric,
                                 verdict.value, ceiling);
    return verdict;
}

// A running unit's health probe: its latency against its timeout; failing
// is a failure at once (ProbeState's failureThreshold already waited).
Verdict probe_verdict(const std::string& unit, const ProbeReading& probe) {
    Verdict verdict;
    verdict.metric = metric_name(unit, "probe");
    verdict.value = probe.latency_ms;
    verdict.threshold = probe.timeout_ms;
    verdict.anomalous = verdict.failure = probe.failing;
    verdict.reason = probe.sentence;
    return verdict;
}

// The probes' verdicts, the first failing one first (it speaks for the unit).
std::vector<Verdict> probe_verdicts(const std::string& unit, const std::vector<ProbeReading>& probes) {
    std::vector<Verdict> verdicts;
    for (const ProbeReading& probe : probes) verdicts.push_back(probe_verdict(unit, probe));
    std::stable_partition(verdicts.begin(), verdicts.end(), [](const Verdict& v) { return v.failure; });
    return verdicts;
}

// Tracks one metric's failure state: entered on a failure verdict, left on
// the first value that is not anomalous.
struct MetricState {
    bool failing = false;

    // True when this verdict makes the metric enter failure.
    bool update(const Verdict& verdict) {
        if (!failing && verdict.failure) return failing = true;
        if (failing && !verdict.anomalous) failing = false;
        return false;
    }
};

}  // namespace

std::string_view TargetStatus::state() const {
    if (!observed) return "unknown";
    if (failed) return "failed";
    if (!present) return stopped ? "stopped" : "down";
    return "healthy";
}

Observation TargetStatus::observation() const {
    Observation obs;
    obs.cpu_percent = cpu;
    obs.memory_percent = memory.value_or(0.0);
    obs.failure_count = static_cast<int>(failure_count);
    obs.cpu_anomalous = cpu_anomalous;
    obs.memory_anomalous = memory_anomalous;
    obs.unit_active = present;
    return obs;
}

struct Monitor::Target {
    Target(const std::string& unit, const AdaptiveDetectorConfig& config)
        : cpu(metric_name(unit, "cpu"), config), memory(metric_name(unit, "memory"), config) {}

    AdaptiveDetector cpu;
    AdaptiveDetector memory;
    MetricState cpu_state;
    MetricState memory_state;
    MetricState active_state;
    MetricState probe_state;
    std::size_t absent_streak = 0;
};

Monitor::Monitor(const std::vector<std::string>& units, const AdaptiveDetectorConfig& detector)
    : detector_(detector) {
    std::vector<std::string> targets{""};
    targets.insert(targets.end(), units.begin(), units.end());
    for (const std::string& unit : targets) {
        state_.push_back(std::make_unique<Target>(unit, detector_));
        TargetStatus status;
        status.unit = unit;
        status_.push_back(std::move(status));
    }
}

Monitor::~Monitor() = default;
Monitor::Monitor(Monitor&&) noexcept = default;
Monitor& Monitor::operator=(Monitor&&) noexcept = default;

std::vector<FailureEvent> Monitor::observe(const std::vector<TargetReading>& readings) {
    std::vector<FailureEvent> events;
    const auto entered = [&](const TargetStatus& status, const Verdict& verdict, const char* metric) {
        events.push_back(FailureEvent{status.unit, metric, verdict.value, verdict.threshold, verdict.reason});
    };
    for (std::size_t i = 0; i < status_.size(); ++i) {
        TargetStatus& status = status_[i];
        Target& target = *state_[i];
        const auto reading = std::find_if(readings.begin(), readings.end(),
                                          [&](const TargetReading& r) { return r.unit == status.unit; });
        if (reading == readings.end()) continue;

        const bool was_failed = status.failed;
        status.observed = true;
        status.present = reading->present;
        status.stopped = reading->stopped;
        status.cpu = reading->cpu;
        status.memory = reading->memory;
        status.probes = reading->probes;
        status.verdicts.clear();
        if (!reading->present) target.probe_state = {};  // a unit that does not run cannot answer
        if (!reading->present && reading->stopped) {
            target.absent_streak = 0;
            target.cpu_state = target.memory_state = target.active_state = {};
            status.cpu_anomalous = status.memory_anomalous = false;
            status.verdicts.push_back(stopped_verdict(status.unit));
        } else if (!reading->present) {
            ++target.absent_streak;
            target.cpu_state = {};
            target.memory_state = {};
            status.cpu_anomalous = status.memory_anomalous = false;
            const Verdict verdict = absence_verdict(status.unit, target.absent_streak, detector_.consecutive);
            if (target.active_state.update(verdict)) entered(status, verdict, "active");
            status.verdicts.push_back(verdict);
        } else {
            target.absent_streak = 0;
            target.active_state = {};
            const Verdict cpu = target.cpu.observe(reading->cpu);
            if (target.cpu_state.update(cpu)) entered(status, cpu, "cpu");
            status.cpu_anomalous = cpu.anomalous;
            status.verdicts.push_back(cpu);
            if (reading->memory) {
                const Verdict memory =
                    with_ceiling(target.memory.observe(*reading->memory), detector_.memory_ceiling);
                if (target.memory_state.update(memory)) entered(status, memory, "memory");
                status.memory_anomalous = memory.anomalous;
                status.verdicts.push_back(memory);
            } else {
                target.memory_state = {};
                status.memory_anomalous = false;
            }
            const std::vector<Verdict> probes = probe_verdicts(status.unit, reading->probes);
            const Verdict probe = probes.empty() ? Verdict{} : probes.front();
            if (target.probe_state.update(probe)) entered(status, probe, "probe");
            status.verdicts.insert(status.verdicts.end(), probes.begin(), probes.end());
        }
        status.failed = target.cpu_state.failing || target.memory_state.failing || target.active_state.failing ||
                        target.probe_state.failing;
        if (status.failed && !was_failed) ++status.failure_count;
    }
    return events;
}

std::vector<Verdict> Monitor::peek(std::optional<double> cpu, std::optional<double> memory) const {
    std::vector<Verdict> verdicts;
    for (std::size_t i = 0; i < status_.size(); ++i) {
        const TargetStatus& status = status_[i];
        const Target& target = *state_[i];
        const bool machine = status.unit.empty();
        if (machine) {
            verdicts.push_back(target.cpu.peek(cpu.value_or(status.cpu)));
            if (memory || status.memory)
                verdicts.push_back(
                    with_ceiling(target.memory.peek(memory ? *memory : *status.memory), detector_.memory_ceiling));
            continue;
        }
        if (!status.observed) continue;
        if (!status.present && status.stopped) {
            verdicts.push_back(stopped_verdict(status.unit));
            continue;
        }
        if (!status.present) {
            verdicts.push_back(absence_verdict(status.unit, target.absent_streak + 1, detector_.consecutive));
            continue;
        }
        verdicts.push_back(target.cpu.peek(status.cpu));
        if (status.memory) verdicts.push_back(with_ceiling(target.memory.peek(*status.memory), detector_.memory_ceiling));
        const std::vector<Verdict> probes = probe_verdicts(status.unit, status.probes);
        verdicts.insert(verdicts.end(), probes.begin(), probes.end());
    }
    return verdicts;
}

const std::vector<TargetStatus>& Monitor::targets() const { return status_; }

const TargetStatus* Monitor::target(const std::string& unit) const {
    const auto it = std::find_if(status_.begin(), status_.end(), [&](const TargetStatus& s) { return s.unit == unit; });
    return it == status_.end() ? nullptr : &*it;
}

bool Monitor::healthy() const {
    return std::none_of(status_.begin(), status_.end(), [](const TargetStatus& s) { return s.failed; });
}

std::uint32_t Monitor::failure_count() const {
    std::uint32_t total = 0;
    for (const TargetStatus& status : status_) total += status.failure_count;
    return total;
}

std::vector<MetricRecord> metric_records(const std::vector<TargetReading>& readings, const Monitor& monitor,
                                         TimePoint time) {
    std::vector<MetricRecord> records;
    records.reserve(readings.size());
    for (const TargetReading& reading : readings) {
        const TargetStatus* status = monitor.target(reading.unit);
        if (!status) continue;
        records.push_back(MetricRecord{.timestamp = time,
                                       .cpu = reading.cpu,
                                       .memory = reading.memory.value_or(0.0),
                                       .healthy = !status->failed,
                                       .unit = reading.unit});
    }
    return records;
}

void Monitor::reconfigure(const std::vector<std::string>& units, const AdaptiveDetectorConfig& detector) {
    const bool keep_history = same_settings(detector, detector_);
    Monitor next(units, detector);
    for (std::size_t i = 0; i < next.status_.size(); ++i) {
        const auto old = std::find_if(status_.begin(), status_.end(),
                                      [&](const TargetStatus& s) { return s.unit == next.status_[i].unit; });
        if (old == status_.end()) continue;
        const auto index = static_cast<std::size_t>(old - status_.begin());
        if (keep_history) {
            next.status_[i] = std::move(status_[index]);
            next.state_[i] = std::move(state_[index]);
        } else {
            next.status_[i].failure_count = old->failure_count;  // the policy's history outlives detectors
        }
    }
    *this = std::move(next);
}

}  // namespace heal
