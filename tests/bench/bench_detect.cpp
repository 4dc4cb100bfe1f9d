#include "bench_detect.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "config/config.hpp"
#include "detect_score.hpp"
#include "detection/detection_config.hpp"
#include "detection/history_replay.hpp"
#include "detection/monitor.hpp"
#include "detection/probe_spec.hpp"
#include "detection/probe_state.hpp"
#include "detection/target_reading.hpp"
#include "trace_corpus.hpp"

namespace heal::bench {
namespace {

namespace fs = std::filesystem;

// The rows as heal::ProcSampler would have sampled them, so readings_from
// (the daemon's own code) turns them into readings.
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

// A unit's health probe from the corpus' probe_ok column: each row is one
// attempt (the corpus' probe ran every second), judged by healerd's own
// ProbeState with the unit's thresholds, as the daemon's ProbeRunner does.
struct CorpusProbe {
    std::string unit;
    std::string name;
    ProbeOptions options;
    ProbeState state;

    void record(bool ok) {
        state.record(ProbeResult{.success = ok, .latency = {}, .error = ok ? "" : "probe_ok 0 in the corpus"});
    }
    // As the daemon's Service::attach_probes reports it.
    ProbeReading reading() const {
        return ProbeReading{name, state.health() == ProbeHealth::failing, 0.0,
                            static_cast<double>(options.timeout.count()), state.sentence(name)};
    }
};

// The corpus' ticks as the daemon hands them to its Monitor.
struct Replay {
    std::vector<std::string> units;  // in order of first appearance
    MachineShape machine;
    std::vector<double> t;
    std::vector<SteadyTime> times;   // t seconds on a steady clock
    std::vector<std::vector<TargetReading>> readings;
};

using ProbeOptionsOf = std::function<ProbeOptions(const std::string& unit)>;

Replay replay_of(const std::vector<TraceTick>& ticks, const ProbeOptionsOf& probe_options_of) {
    Replay replay;
    std::vector<CorpusProbe> probes;
    for (const TraceTick& tick : ticks) {
        for (const TraceRow& row : tick.rows) {
            if (row.unit.empty() || std::find(replay.units.begin(), replay.units.end(), row.unit) != replay.units.end())
                continue;
            replay.units.push_back(row.unit);
        }
    }
    for (const std::string& unit : replay.units) {
        const bool probed = std::any_of(ticks.begin(), ticks.end(), [&](const TraceTick& tick) {
            return std::any_of(tick.rows.begin(), tick.rows.end(),
                               [&](const TraceRow& row) { return row.unit == unit && row.probe_ok; });
        });
        if (!probed) continue;
        const ProbeOptions options = probe_options_of(unit);
        probes.push_back(CorpusProbe{unit, fmt::format("probe_ok column of {}", unit), options,
                                     ProbeState(options.failure_threshold, options.success_threshold)});
    }

    // systemd's NRestarts as the daemon would read it: the corpus has no
    // cgroup identity or NRestarts column, so a unit back after a tick
    // without its cgroup counts as one automatic restart (all of the
    // corpus' services but the crash loop's restart only by hand, at the end
    // of a leak, a few times in 25 minutes).
    std::map<std::string, std::uint64_t> restarts;
    std::map<std::string, bool> was_present;
    for (const TraceTick& tick : ticks) {
        const auto machine = std::find_if(tick.rows.begin(), tick.rows.end(),
                                          [](const TraceRow& row) { return row.unit.empty(); });
        if (machine == tick.rows.end()) throw TraceError(fmt::format("tick t={} has no machine row", tick.t));
        if (replay.t.empty()) replay.machine = MachineShape{machine->cpus, machine->machine_memory_bytes};
        std::vector<TargetReading> readings = readings_from(sample_of(tick, *machine), machine->machine_memory_bytes);
        for (TargetReading& reading : readings) {
            if (reading.unit.empty()) continue;
            const auto seen = was_present.find(reading.unit);
            if (seen != was_present.end() && !seen->second && reading.present) ++restarts[reading.unit];
            was_present[reading.unit] = reading.present;
            reading.automatic_restarts = restarts[reading.unit];
        }
        for (CorpusProbe& probe : probes) {
            const auto row = std::find_if(tick.rows.begin(), tick.rows.end(),
                                          [&](const TraceRow& r) { return r.unit == probe.unit; });
            if (row == tick.rows.end()) continue;
            if (row->probe_ok) probe.record(*row->probe_ok);
            const auto reading = std::find_if(readings.begin(), readings.end(),
                                              [&](const TargetReading& r) { return r.unit == probe.unit; });
            reading->probes.push_back(probe.reading());
        }
        replay.t.push_back(tick.t);
        replay.times.push_back(SteadyTime{} + std::chrono::duration_cast<SteadyTime::duration>(
                                                  std::chrono::duration<double>(tick.t)));
        replay.readings.push_back(std::move(readings));
    }
    return replay;
}

double process_cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct Run {
    std::vector<DetectionEvent> events;
    double cpu_us_per_tick = 0.0;
};

// A fresh Monitor over every tick. The clock brackets the whole loop rather
// than each call, so its own cost (a system call) is not counted thousands
// of times; the loop adds only the copying of the rare events.
Run run(const Replay& replay, const DetectionOf& detection) {
    Monitor monitor(replay.units, detection, replay.machine);
    std::vector<std::pair<std::size_t, FailureEvent>> entered;
    const double start = process_cpu_seconds();
    for (std::size_t i = 0; i < replay.readings.size(); ++i)
        for (FailureEvent& event : monitor.observe(replay.readings[i], replay.times[i]))
            entered.emplace_back(i, std::move(event));
    const double cpu = process_cpu_seconds() - start;
    Run result;
    for (const auto& [tick, event] : entered) result.events.push_back(DetectionEvent{replay.t[tick], event.unit, event.signal});
    if (!replay.readings.empty()) result.cpu_us_per_tick = cpu * 1e6 / static_cast<double>(replay.readings.size());
    return result;
}

// A configuration: the target's settings with this signal list (nullopt:
// the settings' own list, i.e. healerd's default or the --config file's).
struct Detector {
    std::string name;
    std::optional<std::vector<SignalKind>> signals;
};

std::vector<Detector> detectors() {
    std::vector<Detector> list{{"default", std::nullopt},
                               {"original", std::vector{SignalKind::cpu_original, SignalKind::memory_original}}};
    for (const SignalKind kind : {SignalKind::cpu_saturation, SignalKind::memory_leak, SignalKind::memory_pressure,
                                  SignalKind::cpu_pressure, SignalKind::io_pressure, SignalKind::cpu_anomaly,
                                  SignalKind::memory_anomaly, SignalKind::crash_loop})
        list.push_back(Detector{std::string(to_string(kind)), std::vector{kind}});
    return list;
}

std::string figure(const std::optional<double>& value, int decimals) {
    return value ? fmt::format("{:.{}f}", *value, decimals) : std::string("NA");
}

std::string size_text(const std::optional<std::uint64_t>& bytes) {
    if (!bytes) return "infinity";
    return *bytes % (1 << 20) == 0 ? fmt::format("{}M", *bytes >> 20) : fmt::format("{}", *bytes);
}

std::string unit_text(const std::string& unit) { return unit.empty() ? "machine" : unit; }

void print_details(const std::string& name, const DetectionScore& score) {
    fmt::print("events detector={} all={} true={} false_alarms={} healthy_target_s={:.0f}\n", name, score.events,
               score.true_events, score.false_alarms.size(), score.healthy_target_seconds);
    for (const WindowResult& result : score.windows) {
        const FaultWindow& w = result.window;
        fmt::print("window detector={} unit={} label={} start={:.0f} end={:.0f} detected_by={} delay_s={}\n", name,
                   w.unit, w.label, w.start, w.end, result.detected_at ? result.signal : "NA",
                   figure(result.delay(), 0));
    }
    std::map<std::pair<std::string, std::string>, std::size_t> alarms;  // by (target, signal)
    for (const DetectionEvent& event : score.false_alarms) ++alarms[{unit_text(event.unit), event.signal}];
    for (const auto& [key, count] : alarms)
        fmt::print("false_alarms detector={} unit={} signal={} count={}\n", name, key.first, key.second, count);
}

}  // namespace

CLI::App* add_detect_command(CLI::App& app, DetectOptions& options) {
    CLI::App* command = app.add_subcommand(
        "detect", "replay a labelled trace corpus through the Monitor and score each detector configuration");
    options.corpus = (fs::path(HEAL_TRACES_DIR) / "traces.csv.gz").lexically_normal().string();
    command->add_option("--corpus", options.corpus, "the corpus (CSV, or CSV.gz read through gzip -dc)")
        ->capture_default_str();
    command->add_option("--limit", options.limits,
                        "UNIT:MemoryMax=SIZE: a limit the corpus did not record, on top of the `limits` file next "
                        "to the corpus (repeat for more)");
    command->add_option("--config", options.config,
                        "healerd.conf (with its drop-ins and units.d) whose detection and probe settings apply");
    return command;
}

int bench_detect(const DetectOptions& options) {
    std::vector<TraceTick> ticks;
    MemoryLimits limits;
    std::optional<Config> config;
    std::string limits_file = (fs::path(options.corpus).parent_path() / "limits").string();
    try {
        if (fs::exists(limits_file)) limits = read_limits_file(limits_file);
        else limits_file.clear();
        for (const std::string& spec : options.limits) add_limit(limits, spec);
        if (!options.config.empty()) config = load_config(options.config, true);
        ticks = parse_trace(read_corpus_text(options.corpus));
    } catch (const std::exception& e) {  // TraceError, a bad --limit, ConfigError
        fmt::print(stderr, "heal-bench detect: {}\n", e.what());
        return 2;
    }
    apply_limits(ticks, limits);
    const auto base = [&](const std::string& unit) { return config ? config->detection_of(unit) : DetectionConfig{}; };
    const Replay replay = replay_of(ticks, [&](const std::string& unit) {
        return config ? config->settings_of(unit).probe_options : ProbeOptions{};
    });
    const std::vector<FaultWindow> windows = fault_windows(ticks);

    fmt::print("# heal-bench detect: {}: {} ticks, {} targets (the machine and {} units), {} fault windows\n",
               options.corpus, ticks.size(), replay.units.size() + 1, replay.units.size(), windows.size());
    std::string applied;
    for (const auto& [unit, bytes] : limits) applied += fmt::format(" {}:MemoryMax={}", unit, size_text(bytes));
    fmt::print("# limits{}:{}\n", limits_file.empty() ? "" : fmt::format(" ({} and --limit)", limits_file),
               applied.empty() ? " none" : applied);
    fmt::print("# settings: {}; probes: probe_ok, one attempt a row, through ProbeState (failureThreshold, "
               "successThreshold of the unit's [Probe] settings; default 3 and 1)\n",
               config ? options.config : "healerd's defaults");
    fmt::print("# Every configuration also judges unit state (a unit not running for InactiveForSec=; the corpus "
               "cannot tell a stop on purpose, so none is) and health probes: the Monitor always does.\n");
    fmt::print("# A window is detected by an event of its unit from its start to its end + {:.0f} s; precision = "
               "events within a window + grace of their unit / all events (one event per signal entering failure); "
               "false alarms per target-day of unlabelled ticks, the machine's included; delays nearest-rank.\n",
               kDefaultGraceSec);

    std::vector<std::pair<std::string, DetectionScore>> details;
    for (const Detector& detector : detectors()) {
        const Run result = run(replay, [&](const std::string& unit) {
            DetectionConfig settings = base(unit);
            if (detector.signals) settings.signals = *detector.signals;
            return settings;
        });
        DetectionScore score = score_detection(ticks, result.events);
        fmt::print("detector={} precision={} recall={} delay_median_s={} delay_p95_s={} "
                   "false_alarms_per_unit_day={} cpu_us_per_tick={:.1f}\n",
                   detector.name, figure(score.precision, 3), figure(score.recall, 3), figure(score.delay_median_s, 0),
                   figure(score.delay_p95_s, 0), figure(score.false_alarms_per_unit_day, 1), result.cpu_us_per_tick);
        if (!detector.signals || detector.name == "original") details.emplace_back(detector.name, std::move(score));
    }
    for (const auto& [name, score] : details) print_details(name, score);
    return 0;
}

}  // namespace heal::bench
