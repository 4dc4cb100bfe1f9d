#include "bench_detect.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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
#include "detection/monitor.hpp"
#include "detection/target_reading.hpp"
#include "corpus_readings.hpp"
#include "healthy_soak.hpp"
#include "trace_corpus.hpp"

namespace heal::bench {
namespace {

namespace fs = std::filesystem;

// The corpus' ticks as the daemon hands them to its Monitor.
struct Replay {
    std::vector<std::string> units;  // in order of first appearance
    MachineShape machine;
    std::vector<double> t;
    std::vector<SteadyTime> times;   // t seconds on a steady clock
    std::vector<std::vector<TargetReading>> readings;
};

SteadyTime steady_at(double t) {
    return SteadyTime{} + std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(t));
}

MachineShape machine_of(const std::vector<TraceTick>& ticks) {
    if (ticks.empty()) return MachineShape{};
    for (const TraceRow& row : ticks.front().rows)
        if (row.unit.empty()) return MachineShape{row.cpus, row.machine_memory_bytes};
    throw TraceError(fmt::format("tick t={} has no machine row", ticks.front().t));
}

Replay replay_of(const std::vector<TraceTick>& ticks, const ProbeOptionsOf& probe_options_of) {
    Replay replay{.units = units_of(ticks), .machine = machine_of(ticks), .t = {}, .times = {}, .readings = {}};
    CorpusReadings readings(probed_units_of(ticks), probe_options_of);
    for (const TraceTick& tick : ticks) {
        replay.readings.push_back(readings.next(tick));
        replay.t.push_back(tick.t);
        replay.times.push_back(steady_at(tick.t));
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

// The one-sided 95 % upper bound of a Poisson mean after `count` events
// (exact, by bisection on P(X <= count) = 0.05): 3.0 for none.
double poisson_upper_95(std::size_t count) {
    const auto at_most = [&](double mean) {  // each term in logs: exp(-mean) alone underflows past 745
        double sum = 0.0;
        for (std::size_t k = 0; k <= count; ++k) {
            const auto n = static_cast<double>(k);
            sum += std::exp(-mean + n * std::log(mean) - std::lgamma(n + 1.0));
        }
        return sum;
    };
    double low = 0.0;
    double high = 10.0 + 3.0 * static_cast<double>(count);
    for (int step = 0; step < 100; ++step) {
        const double middle = (low + high) / 2.0;
        (at_most(middle) > 0.05 ? low : high) = middle;
    }
    return high;
}

constexpr double kSoakMeanBlockSec = 300.0;

// Every event of a healthy soak is a false alarm.
void print_soak(const std::vector<TraceTick>& ticks, double days, std::uint64_t seed, const ProbeOptionsOf& probe_options_of,
                const std::vector<std::pair<std::string, DetectionOf>>& configurations) {
    const auto length = static_cast<std::size_t>(std::llround(days * 86'400.0));
    const std::vector<std::string> units = units_of(ticks);
    const std::vector<std::string> probed = probed_units_of(ticks);
    const std::size_t targets = units.size() + 1;
    std::string healthy;
    const std::vector<std::size_t> counts = HealthySoak(ticks, kDefaultGraceSec, kSoakMeanBlockSec, seed).healthy_ticks();
    for (std::size_t i = 0; i < counts.size(); ++i)
        healthy += fmt::format(" {}={}", i == 0 ? "machine" : units[i - 1], counts[i]);
    fmt::print("# soak: {} ticks of each target resampled from its healthy ticks (a stationary bootstrap, mean block "
               "{:.0f} s, seed {}; unlabelled and over {:.0f} s after its own windows):{}\n",
               length, kSoakMeanBlockSec, seed, kDefaultGraceSec, healthy);
    const double target_weeks = static_cast<double>(length * targets) / (7.0 * 86'400.0);
    for (const auto& [name, detection] : configurations) {
        HealthySoak soak(ticks, kDefaultGraceSec, kSoakMeanBlockSec, seed);
        CorpusReadings readings(probed, probe_options_of);
        Monitor monitor(units, detection, machine_of(ticks));
        std::map<std::pair<std::string, std::string>, std::size_t> alarms;  // by (target, signal)
        std::size_t count = 0;
        double cpu = 0.0;
        for (std::size_t i = 0; i < length; ++i) {
            const TraceTick tick = soak.next();
            const std::vector<TargetReading> observed = readings.next(tick);
            const double start = process_cpu_seconds();
            for (const FailureEvent& event : monitor.observe(observed, steady_at(tick.t))) {
                ++alarms[{unit_text(event.unit), event.signal}];
                ++count;
            }
            cpu += process_cpu_seconds() - start;
        }
        fmt::print("soak detector={} target_weeks={:.2f} false_alarms={} false_alarms_per_unit_week={:.2f} "
                   "upper95_per_unit_week={:.2f} cpu_us_per_tick={:.1f}\n",
                   name, target_weeks, count, static_cast<double>(count) / target_weeks,
                   poisson_upper_95(count) / target_weeks, cpu * 1e6 / static_cast<double>(std::max<std::size_t>(length, 1)));
        for (const auto& [key, n] : alarms)
            fmt::print("soak_false_alarms detector={} unit={} signal={} count={}\n", name, key.first, key.second, n);
    }
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
    command->add_option("--soak-days", options.soak_days,
                        "then replay DAYS of each target resampled from its healthy ticks through the default and "
                        "the original detector, and print their false alarms (0: none)")
        ->check(CLI::Range(0.0, 366.0));
    command->add_option("--soak-seed", options.soak_seed, "the resampling's seed")->capture_default_str();
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
    const auto settings_of = [&](const Detector& detector) -> DetectionOf {
        return [&base, signals = detector.signals](const std::string& unit) {
            DetectionConfig settings = base(unit);
            if (signals) settings.signals = *signals;
            return settings;
        };
    };
    const ProbeOptionsOf probe_options_of = [&](const std::string& unit) {
        return config ? config->settings_of(unit).probe_options : ProbeOptions{};
    };
    const Replay replay = replay_of(ticks, probe_options_of);
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
        const Run result = run(replay, settings_of(detector));
        DetectionScore score = score_detection(ticks, result.events);
        fmt::print("detector={} precision={} recall={} delay_median_s={} delay_p95_s={} "
                   "false_alarms_per_unit_day={} cpu_us_per_tick={:.1f}\n",
                   detector.name, figure(score.precision, 3), figure(score.recall, 3), figure(score.delay_median_s, 0),
                   figure(score.delay_p95_s, 0), figure(score.false_alarms_per_unit_day, 1), result.cpu_us_per_tick);
        if (!detector.signals || detector.name == "original") details.emplace_back(detector.name, std::move(score));
    }
    for (const auto& [name, score] : details) print_details(name, score);
    if (options.soak_days > 0.0) {
        std::vector<std::pair<std::string, DetectionOf>> configurations;
        for (const Detector& detector : detectors())
            if (!detector.signals || detector.name == "original")
                configurations.emplace_back(detector.name, settings_of(detector));
        print_soak(ticks, options.soak_days, options.soak_seed, probe_options_of, configurations);
    }
    return 0;
}

}  // namespace heal::bench
