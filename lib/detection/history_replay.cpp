#include "detection/history_replay.hpp"

#include <algorithm>

namespace heal {

std::optional<Pressure> pressure_of(std::optional<double> some, std::optional<double> full) {
    if (!some) return std::nullopt;
    return Pressure{.avg10 = *some, .total_us = 0, .full_avg10 = full};
}

std::optional<TargetReading> reading_of(const MetricRecord& record) {
    if (!record.detail) return std::nullopt;
    const ReadingDetail& detail = *record.detail;
    TargetReading reading;
    reading.unit = record.unit;
    reading.present = detail.present;
    reading.stopped = detail.stopped;
    reading.cpu = record.cpu;
    reading.memory = record.memory;
    reading.memory_max_bytes = detail.memory_max_bytes;
    reading.memory_high_bytes = detail.memory_high_bytes;
    reading.cpu_limit_percent = detail.cpu_limit_percent;
    reading.runnable_threads = detail.runnable_threads;
    reading.cpu_pressure = pressure_of(detail.cpu_some, detail.cpu_full);
    reading.memory_pressure = pressure_of(detail.memory_some, detail.memory_full);
    reading.io_pressure = pressure_of(detail.io_some, detail.io_full);
    reading.automatic_restarts = detail.automatic_restarts;
    if (detail.probes_failing) {
        const bool failing = *detail.probes_failing > 0;
        reading.probes.push_back(ProbeReading{
            .name = std::string(kStoredProbeName),
            .failing = failing,
            .latency_ms = 0.0,
            .timeout_ms = 0.0,
            .sentence = failing ? "a probe was failing when this tick was stored" : "no probe was failing"});
    }
    return reading;
}

HistoryReplay::HistoryReplay(DetectionOf detection, MachineShape machine, std::chrono::seconds gap)
    : detection_(std::move(detection)), machine_(machine), gap_(gap), monitor_({}, detection_, machine_) {}

ReplayTally& HistoryReplay::tally_of(const std::string& unit) {
    const auto it = std::find_if(tallies_.begin(), tallies_.end(), [&](const ReplayTally& t) { return t.unit == unit; });
    if (it != tallies_.end()) return *it;
    // The machine first, as everywhere healerd lists targets.
    return *tallies_.insert(unit.empty() ? tallies_.begin() : tallies_.end(), ReplayTally{.unit = unit});
}

void HistoryReplay::tick(std::span<const MetricRecord> rows) {
    if (rows.empty()) return;
    const TimePoint time = rows.front().timestamp;
    if (last_time_) {
        const auto step = time - *last_time_;
        if (step < TimePoint::duration::zero() || step > gap_) {
            monitor_ = Monitor(units_, detection_, machine_);
            ++restarts_;
            steady_ += std::chrono::seconds(1);
        } else {
            steady_ += std::chrono::duration_cast<SteadyTime::duration>(step);
        }
    }
    last_time_ = time;

    std::vector<TargetReading> readings;
    bool new_unit = false;
    for (const MetricRecord& row : rows) {
        std::optional<TargetReading> reading = reading_of(row);
        if (!reading) {
            ++rows_without_detail_;
            continue;
        }
        ReplayTally& tally = tally_of(row.unit);
        ++tally.ticks;
        if (!row.healthy && !tally.stored_failed) ++tally.stored_failures;
        tally.stored_failed = !row.healthy;
        if (!row.unit.empty() && std::find(units_.begin(), units_.end(), row.unit) == units_.end()) {
            units_.push_back(row.unit);
            new_unit = true;
        }
        readings.push_back(std::move(*reading));
    }
    if (new_unit) monitor_.reconfigure(units_, detection_);
    for (FailureEvent& event : monitor_.observe(readings, steady_)) failures_.push_back({time, std::move(event)});
    for (const TargetReading& reading : readings) {
        ReplayTally& tally = tally_of(reading.unit);
        const bool failed = monitor_.target(reading.unit)->failed;
        if (failed && !tally.replayed_failed) ++tally.replayed_failures;
        tally.replayed_failed = failed;
    }
}

}  // namespace heal
