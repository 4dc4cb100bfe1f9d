#include "detection/monitor.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace heal {
namespace {

std::string metric_name(const std::string& unit, std::string_view metric) {
    return unit.empty() ? std::string(metric) : fmt::format("unit:{}:{}", unit, metric);
}

std::string held_text(double seconds) { return fmt::format("{:.0f} s", seconds); }

// A unit that is not running: a failure once that has lasted InactiveForSec.
Verdict inactive_verdict(const std::string& unit, double held_sec, double for_sec, bool failure) {
    Verdict verdict;
    verdict.metric = metric_name(unit, "active");
    verdict.value = 0.0;
    verdict.threshold = 1.0;
    verdict.anomalous = true;
    verdict.failure = failure;
    verdict.reason = failure || for_sec <= 0.0
                         ? fmt::format("{} is not running (for {})", unit, held_text(held_sec))
                         : fmt::format("{} is not running for {}; a failure at {} (InactiveForSec=)", unit,
                                       held_text(held_sec), held_text(for_sec));
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

// Tracks one signal's failure state: entered on a failure verdict, left on
// the first tick it no longer holds.
struct FailureState {
    bool failing = false;

    // True when this tick makes the signal enter failure.
    bool update(bool failure, bool holds) {
        if (!failing && failure) return failing = true;
        if (failing && !holds) failing = false;
        return false;
    }
};

// What a target's signals see of a reading. Memory in bytes comes back from
// the % and the limit it is a % of (MemoryMax, else the machine's RAM), so
// an injected fault that rewrites the % is seen by every signal.
SignalInput input_of(const TargetReading& reading, SteadyTime now, const MachineShape& machine) {
    SignalInput input;
    input.unit = reading.unit;
    input.time = now;
    input.present = reading.present;
    input.stopped = reading.stopped;
    input.cpus = machine.cpus;
    input.runnable_threads = reading.runnable_threads;
    if (machine.memory_bytes > 0) input.machine_memory_bytes = machine.memory_bytes;
    input.cpu_pressure = reading.cpu_pressure;
    input.memory_pressure = reading.memory_pressure;
    input.io_pressure = reading.io_pressure;
    input.automatic_restarts = reading.automatic_restarts;
    if (!reading.present) return input;
    input.cpu_percent = reading.cpu;
    input.cpu_limit_percent = reading.cpu_limit_percent;
    input.memory_max_bytes = reading.memory_max_bytes;
    input.memory_high_bytes = reading.memory_high_bytes;
    const std::uint64_t of = reading.memory_max_bytes.value_or(machine.memory_bytes);
    if (reading.memory && std::isfinite(*reading.memory) && of > 0)
        input.memory_bytes = static_cast<std::uint64_t>(std::max(0.0, *reading.memory) / 100.0 * static_cast<double>(of));
    return input;
}

Verdict verdict_of(const std::string& unit, SignalKind kind, const SignalVerdict& signal, bool failure) {
    Verdict verdict;
    verdict.metric = metric_name(unit, to_string(kind));
    verdict.value = signal.value;
    verdict.threshold = signal.threshold;
    verdict.anomalous = signal.firing;
    verdict.failure = failure;
    verdict.reason = signal.reason;
    if (signal.failure && !failure)
        verdict.reason += fmt::format("; not acted on alone: no other signal of {} is firing",
                                      unit.empty() ? "the machine" : unit);
    return verdict;
}

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
    // A unit in a crash loop runs now and then, but does not stay up.
    obs.unit_active = present && !crash_looping;
    return obs;
}

struct Monitor::Target {
    Target(DetectionConfig settings)
        : config(std::move(settings)),
          detectors(make_detectors(config)),
          failing(detectors.size()),
          inactive(config.inactive_for_sec, config.cpu_saturation.max_gap_sec) {}

    DetectionConfig config;
    std::vector<NamedDetector> detectors;
    std::vector<FailureState> failing;  // one per detector
    SustainedCondition inactive;
    FailureState inactive_state;
    FailureState probe_state;
    std::optional<SignalInput> last_input;

    bool any_failing() const {
        return inactive_state.failing || probe_state.failing ||
               std::any_of(failing.begin(), failing.end(), [](const FailureState& f) { return f.failing; });
    }
};

namespace {

// The detectors' verdicts for one input, with corroboration applied: a
// signal that needs it is a failure only while another signal fires or a
// probe fails.
struct Judgement {
    std::vector<SignalVerdict> signals;
    std::vector<bool> failure;
};

Judgement judge(std::vector<NamedDetector>& detectors, const SignalInput& input, bool probe_failing) {
    Judgement judgement;
    for (NamedDetector& named : detectors) judgement.signals.push_back(named.detector->observe(input));
    const bool corroborated =
        probe_failing || std::any_of(judgement.signals.begin(), judgement.signals.end(), [](const SignalVerdict& v) {
            return v.firing && !v.needs_corroboration;
        });
    for (const SignalVerdict& verdict : judgement.signals)
        judgement.failure.push_back(verdict.failure && (!verdict.needs_corroboration || corroborated));
    return judgement;
}

}  // namespace

Monitor::Monitor(const std::vector<std::string>& units, const DetectionOf& detection, MachineShape machine)
    : machine_(machine) {
    std::vector<std::string> targets{""};
    targets.insert(targets.end(), units.begin(), units.end());
    for (const std::string& unit : targets) {
        DetectionConfig config = detection(unit);
        config.validate();
        state_.push_back(std::make_unique<Target>(std::move(config)));
        TargetStatus status;
        status.unit = unit;
        status_.push_back(std::move(status));
    }
}

Monitor::~Monitor() = default;
Monitor::Monitor(Monitor&&) noexcept = default;
Monitor& Monitor::operator=(Monitor&&) noexcept = default;

std::vector<FailureEvent> Monitor::observe(const std::vector<TargetReading>& readings, SteadyTime now) {
    std::vector<FailureEvent> events;
    for (std::size_t i = 0; i < status_.size(); ++i) {
        TargetStatus& status = status_[i];
        Target& target = *state_[i];
        const auto reading = std::find_if(readings.begin(), readings.end(),
                                          [&](const TargetReading& r) { return r.unit == status.unit; });
        if (reading == readings.end()) continue;
        const auto entered = [&](std::string_view metric, std::string_view signal, const Verdict& verdict,
                                 double held_sec) {
            events.push_back(FailureEvent{status.unit, std::string(metric), std::string(signal), verdict.value,
                                          verdict.threshold, held_sec, verdict.reason});
        };

        const bool was_failed = status.failed;
        status.observed = true;
        status.present = reading->present;
        status.stopped = reading->stopped;
        status.cpu = reading->cpu;
        status.memory = reading->memory;
        status.probes = reading->probes;
        status.verdicts.clear();
        const SignalInput input = input_of(*reading, now, machine_);
        target.last_input = input;

        if (!reading->present) target.probe_state = {};  // a unit that does not run cannot answer
        const std::vector<Verdict> probes =
            reading->present ? probe_verdicts(status.unit, reading->probes) : std::vector<Verdict>{};
        const bool probe_failing = !probes.empty() && probes.front().failure;
        target.inactive.observe(now, !reading->present && !reading->stopped);
        // Signals judge only a running target; fed the absence, they break their ForSec.
        const Judgement judgement = judge(target.detectors, input, probe_failing);
        status.cpu_anomalous = status.memory_anomalous = false;
        const auto judge_signal = [&](std::size_t d) {
            const SignalKind kind = target.detectors[d].kind;
            const SignalVerdict& signal = judgement.signals[d];
            const Verdict verdict = verdict_of(status.unit, kind, signal, judgement.failure[d]);
            if (target.failing[d].update(verdict.failure, signal.firing))
                entered(metric_of(kind), to_string(kind), verdict, signal.held_sec);
            if (signal.firing && metric_of(kind) == "cpu") status.cpu_anomalous = true;
            if (signal.firing && metric_of(kind) == "memory") status.memory_anomalous = true;
            status.verdicts.push_back(verdict);
        };
        if (!reading->present) {
            // Only a signal that judges a unit's absence too (crash_loop,
            // between restarts) stays or becomes a failure now.
            for (std::size_t d = 0; d < target.detectors.size(); ++d) {
                if (judgement.failure[d])
                    judge_signal(d);
                else
                    target.failing[d] = {};
            }
            if (reading->stopped) {
                target.inactive_state = {};
                status.verdicts.push_back(stopped_verdict(status.unit));
            } else {
                const Verdict verdict = inactive_verdict(status.unit, target.inactive.held_sec(),
                                                         target.config.inactive_for_sec, target.inactive.met());
                if (target.inactive_state.update(verdict.failure, true))
                    entered("active", "active", verdict, target.inactive.held_sec());
                status.verdicts.push_back(verdict);
            }
        } else {
            target.inactive_state = {};
            for (std::size_t d = 0; d < target.detectors.size(); ++d) judge_signal(d);
            if (target.probe_state.update(probe_failing, probe_failing))
                entered("probe", "probe", probes.front(), 0.0);
            status.verdicts.insert(status.verdicts.end(), probes.begin(), probes.end());
        }
        status.crash_looping = false;
        for (std::size_t d = 0; d < target.detectors.size(); ++d)
            if (target.detectors[d].kind == SignalKind::crash_loop && target.failing[d].failing) status.crash_looping = true;
        status.failed = target.any_failing();
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
        if (!machine || (!cpu && !memory)) {
            verdicts.insert(verdicts.end(), status.verdicts.begin(), status.verdicts.end());
            continue;
        }
        // As the next tick; before the first one, a reading of just these values.
        SignalInput input = target.last_input ? *target.last_input : input_of(TargetReading{}, SteadyTime{}, machine_);
        input.time += std::chrono::seconds(1);
        if (cpu) input.cpu_percent = *cpu;
        if (memory && machine_.memory_bytes > 0)
            input.memory_bytes = static_cast<std::uint64_t>(*memory / 100.0 * static_cast<double>(machine_.memory_bytes));
        std::vector<NamedDetector> copies;
        for (const NamedDetector& named : target.detectors) copies.push_back({named.kind, named.detector->clone()});
        const Judgement judgement = judge(copies, input, false);
        for (std::size_t d = 0; d < copies.size(); ++d)
            verdicts.push_back(verdict_of(status.unit, copies[d].kind, judgement.signals[d], judgement.failure[d]));
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

ReadingDetail detail_of(const TargetReading& reading) {
    const auto some = [](const std::optional<Pressure>& pressure) {
        return pressure ? std::optional<double>(pressure->avg10) : std::nullopt;
    };
    const auto full = [](const std::optional<Pressure>& pressure) {
        return pressure ? pressure->full_avg10 : std::nullopt;
    };
    ReadingDetail detail{.present = reading.present,
                         .stopped = reading.stopped,
                         .runnable_threads = reading.runnable_threads,
                         .memory_max_bytes = reading.memory_max_bytes,
                         .memory_high_bytes = reading.memory_high_bytes,
                         .cpu_limit_percent = reading.cpu_limit_percent,
                         .cpu_some = some(reading.cpu_pressure),
                         .cpu_full = full(reading.cpu_pressure),
                         .memory_some = some(reading.memory_pressure),
                         .memory_full = full(reading.memory_pressure),
                         .io_some = some(reading.io_pressure),
                         .io_full = full(reading.io_pressure),
                         .automatic_restarts = reading.automatic_restarts};
    if (!reading.probes.empty())
        detail.probes_failing = static_cast<std::uint32_t>(
            std::count_if(reading.probes.begin(), reading.probes.end(), [](const ProbeReading& p) { return p.failing; }));
    return detail;
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
                                       .unit = reading.unit,
                                       .detail = detail_of(reading)});
    }
    return records;
}

void Monitor::reconfigure(const std::vector<std::string>& units, const DetectionOf& detection) {
    Monitor next(units, detection, machine_);
    for (std::size_t i = 0; i < next.status_.size(); ++i) {
        const auto old = std::find_if(status_.begin(), status_.end(),
                                      [&](const TargetStatus& s) { return s.unit == next.status_[i].unit; });
        if (old == status_.end()) continue;
        const auto index = static_cast<std::size_t>(old - status_.begin());
        if (state_[index]->config == next.state_[i]->config) {
            next.status_[i] = std::move(status_[index]);
            next.state_[i] = std::move(state_[index]);
        } else {
            next.status_[i].failure_count = old->failure_count;  // the policy's history outlives detectors
        }
    }
    *this = std::move(next);
}

}  // namespace heal
