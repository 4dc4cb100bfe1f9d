#include "corpus_readings.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "detection/history_replay.hpp"

namespace heal::bench {
namespace {

// The rows as heal::ProcSampler would have sampled them.
Sample sample_of(const TraceTick& tick, const TraceRow& machine) {
    Sample sample;
    sample.system.cpu_percent = machine.cpu_percent;
    if (machine.machine_memory_bytes > 0)
        sample.system.memory_percent =
            100.0 * static_cast<double>(machine.memory_bytes) / static_cast<double>(machine.machine_memory_bytes);
    sample.system.cpu_pressure = pressure_of(machine.cpu_some_avg10);
    sample.system.memory_pressure = pressure_of(machine.memory_some_avg10, machine.memory_full_avg10);
    sample.system.io_pressure = pressure_of(machine.io_some_avg10);
    for (const TraceRow& row : tick.rows) {
        if (row.unit.empty()) continue;
        UnitSample unit;
        unit.unit = row.unit;
        unit.present = row.present;
        unit.cpu_percent = row.cpu_percent;
        unit.memory_bytes = row.memory_bytes;
        unit.memory_max_bytes = row.memory_max_bytes;
        unit.runnable_threads = row.runnable_threads;
        unit.memory_high_bytes = row.memory_high_bytes;
        unit.cpu_limit_percent = row.cpu_limit_percent;
        unit.cpu_pressure = pressure_of(row.cpu_some_avg10);
        unit.memory_pressure = pressure_of(row.memory_some_avg10, row.memory_full_avg10);
        unit.io_pressure = pressure_of(row.io_some_avg10);
        sample.units.push_back(std::move(unit));
    }
    return sample;
}

}  // namespace

CorpusReadings::CorpusReadings(const std::vector<std::string>& probed_units, const ProbeOptionsOf& probe_options_of) {
    for (const std::string& unit : probed_units) {
        const ProbeOptions options = probe_options_of(unit);
        probes_.push_back(Probe{unit, fmt::format("probe_ok column of {}", unit), options,
                                ProbeState(options.failure_threshold, options.success_threshold)});
    }
}

std::vector<TargetReading> CorpusReadings::next(const TraceTick& tick) {
    const auto machine =
        std::find_if(tick.rows.begin(), tick.rows.end(), [](const TraceRow& row) { return row.unit.empty(); });
    if (machine == tick.rows.end()) throw TraceError(fmt::format("tick t={} has no machine row", tick.t));
    std::vector<TargetReading> readings = readings_from(sample_of(tick, *machine), machine->machine_memory_bytes);

    // systemd's NRestarts as the daemon would read it: the corpus has no
    // cgroup identity or NRestarts column, so a unit back after a tick
    // without its cgroup counts as one automatic restart (all of the
    // corpus' services but the crash loop's restart only by hand, at the end
    // of a leak, a few times in 25 minutes).
    for (TargetReading& reading : readings) {
        if (reading.unit.empty()) continue;
        const auto seen = was_present_.find(reading.unit);
        if (seen != was_present_.end() && !seen->second && reading.present) ++restarts_[reading.unit];
        was_present_[reading.unit] = reading.present;
        reading.automatic_restarts = restarts_[reading.unit];
    }
    for (Probe& probe : probes_) {
        const auto row =
            std::find_if(tick.rows.begin(), tick.rows.end(), [&](const TraceRow& r) { return r.unit == probe.unit; });
        if (row == tick.rows.end()) continue;
        if (row->probe_ok)
            probe.state.record(ProbeResult{.success = *row->probe_ok, .latency = {},
                                           .error = *row->probe_ok ? "" : "probe_ok 0 in the corpus"});
        const auto reading = std::find_if(readings.begin(), readings.end(),
                                          [&](const TargetReading& r) { return r.unit == probe.unit; });
        // As the daemon's Service::attach_probes reports it.
        reading->probes.push_back(ProbeReading{probe.name, probe.state.health() == ProbeHealth::failing, 0.0,
                                               static_cast<double>(probe.options.timeout.count()),
                                               probe.state.sentence(probe.name)});
    }
    return readings;
}

}  // namespace heal::bench
