// replay: detection offline, with no daemon: the original detector over a
// `timestamp,value` CSV, or healerd's stored history judged again with the
// detection settings of a healerd.conf (a backtest before changing them).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config/config.hpp"
#include "detection/history_replay.hpp"
#include "detection/replay.hpp"
#include "detector_options.hpp"
#include "error.hpp"
#include "json_output.hpp"
#include "render.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

using std::chrono::system_clock;

struct ReplayOptions {
    std::string file;  // "-" reads standard input; "" replays the stored history
    std::optional<std::string> column;  // of FILE: default "value"
    DetectorFlags detector;
    std::optional<std::string> since;
    std::optional<std::string> until;
    std::vector<std::string> units;
    std::optional<std::filesystem::path> database;
};

std::vector<heal::ReplayRow> replay(const std::string& file, const heal::AdaptiveDetectorConfig& config,
                                    const std::string& column) {
    const std::string name = file == "-" ? "standard input" : file;
    try {
        if (file == "-") return heal::replay_csv(std::cin, config, column);
        std::ifstream in(file);
        if (!in) throw CtlError(Exit::usage, fmt::format("cannot open {}: {}.", file, std::strerror(errno)));
        return heal::replay_csv(in, config, column);
    } catch (const heal::ReplayError& e) {
        throw CtlError(Exit::failed, fmt::format("{}: {}.", name, e.what()));
    }
}

void print_csv_replay(const ReplayOptions& options, const GlobalOptions& global) {
    const auto rows = replay(options.file, options.detector.resolve(), options.column.value_or("value"));
    if (global.json) {
        Json out = Json::array();
        for (const auto& row : rows)
            out.push_back({{"timestamp", row.timestamp}, {"value", row.value}, {"anomaly", row.anomaly}});
        print_json(out);
        return;
    }
    std::string csv = "timestamp,value,anomaly\n";
    for (const auto& row : rows) csv += fmt::format("{},{},{}\n", row.timestamp, row.value, row.anomaly ? 1 : 0);
    fmt::print("{}", csv);
}

std::string target_text(const std::string& unit) { return unit.empty() ? "machine" : unit; }

// The history a replay reads, and the settings it judges it with.
struct HistorySource {
    std::filesystem::path config_path;
    bool config_found = false;
    heal::Config config;
    std::filesystem::path database;
};

HistorySource history_source(const ReplayOptions& options, const GlobalOptions& global) {
    HistorySource source;
    source.config_path = options.detector.config_file.value_or(heal::default_config_path(global.user));
    std::error_code error;
    source.config_found = std::filesystem::exists(source.config_path, error);
    if (options.detector.config_file && !source.config_found)
        throw CtlError(Exit::usage, fmt::format("cannot read {}: no such file.", source.config_path.string()));
    try {
        source.config = heal::load_config(source.config_path, false);
    } catch (const heal::ConfigError& e) {
        throw CtlError(Exit::failed, fmt::format("{}.", e.what()));
    }
    source.database =
        options.database.value_or(heal::database_path(source.config, heal::default_state_directory(global.user)));
    return source;
}

// Two stored ticks further apart than this: healerd was not sampling.
std::chrono::seconds gap_of(const heal::Config& config) {
    const auto interval = std::chrono::ceil<std::chrono::seconds>(config.sample_interval);
    return std::max(std::chrono::seconds(10), 5 * interval);
}

heal::MachineShape this_machine() {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGE_SIZE);
    return heal::MachineShape{static_cast<unsigned>(std::max(1L, cpus)),
                              pages > 0 && page_size > 0
                                  ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size)
                                  : 0};
}

void replay_history(const ReplayOptions& options, const GlobalOptions& global) {
    const auto now = system_clock::now();
    const auto since = options.since ? time_argument("--since", *options.since, now) : system_clock::time_point{};
    const auto until = options.until ? time_argument("--until", *options.until, now) : now;
    if (until <= since) throw CtlError(Exit::usage, "--until must be later than --since.");
    const HistorySource source = history_source(options, global);
    const heal::Config& config = source.config;

    heal::HistoryReplay history([&](const std::string& unit) { return config.detection_of(unit); }, this_machine(),
                                gap_of(config));
    const auto wanted = [&](const std::string& unit) {
        return options.units.empty() || std::find(options.units.begin(), options.units.end(), unit) != options.units.end();
    };
    std::uint64_t rows = 0;
    std::optional<heal::TimePoint> first;
    std::optional<heal::TimePoint> last;
    try {
        const heal::Store store(source.database, heal::StoreAccess::read_only);
        std::vector<heal::MetricRecord> tick;
        const auto flush = [&] {
            history.tick(tick);
            tick.clear();
        };
        store.each_metric(since, until, [&](heal::MetricRecord&& record) {
            if (!wanted(record.unit)) return;
            if (!tick.empty() && tick.front().timestamp != record.timestamp) flush();
            if (!first) first = record.timestamp;
            last = record.timestamp;
            ++rows;
            tick.push_back(std::move(record));
        });
        flush();
    } catch (const heal::StoreError& e) {
        throw CtlError(Exit::failed, fmt::format("{}.", e.what()));
    } catch (const std::invalid_argument& e) {  // settings the Monitor refuses
        throw CtlError(Exit::failed, fmt::format("{}: {}.", source.config_path.string(), e.what()));
    }

    const std::string settings =
        source.config_found ? source.config_path.string() : fmt::format("healerd's defaults ({} does not exist)",
                                                                          source.config_path.string());
    if (global.json) {
        Json failures = Json::array();
        for (const heal::ReplayedFailure& failure : history.failures())
            failures.push_back({{"timestamp", iso8601_utc(failure.time)},
                                {"unit", failure.event.unit},
                                {"metric", failure.event.metric},
                                {"signal", failure.event.signal},
                                {"value", failure.event.value},
                                {"threshold", failure.event.threshold},
                                {"held_sec", failure.event.held_sec},
                                {"reason", failure.event.reason}});
        Json targets = Json::array();
        for (const heal::ReplayTally& tally : history.tallies())
            targets.push_back({{"unit", tally.unit},
                               {"ticks", tally.ticks},
                               {"stored_failures", tally.stored_failures},
                               {"replayed_failures", tally.replayed_failures}});
        print_json(Json{{"database", source.database.string()},
                        {"settings", settings},
                        {"rows", rows},
                        {"rows_without_detail", history.rows_without_detail()},
                        {"restarts", history.restarts()},
                        {"from", first ? Json(iso8601_utc(*first)) : Json()},
                        {"to", last ? Json(iso8601_utc(*last)) : Json()},
                        {"failures", failures},
                        {"targets", targets}});
        return;
    }
    if (!history.failures().empty()) {
        Table events({"TIME", "TARGET", "SIGNAL", "HELD", "REASON"});
        for (const heal::ReplayedFailure& failure : history.failures())
            events.add_row({local_time(micros(failure.time)), target_text(failure.event.unit), failure.event.signal,
                            seconds(failure.event.held_sec), failure.event.reason});
        fmt::print("{}\n", events.render());
    }
    Table targets({"TARGET", "TICKS", "FAILURES STORED", "FAILURES REPLAYED"});
    for (const heal::ReplayTally& tally : history.tallies())
        targets.add_row({target_text(tally.unit), std::to_string(tally.ticks), std::to_string(tally.stored_failures),
                         std::to_string(tally.replayed_failures)});
    fmt::print("{}", targets.render());
    if (!first) {
        fmt::print("No stored ticks in {} between {} and {}.\n", source.database.string(), local_time(micros(since)),
                   local_time(micros(until)));
    } else {
        fmt::print("Replayed {} stored rows of {}, {} to {}, with the detection settings of {}.\n", rows,
                   source.database.string(), local_time(micros(*first)), local_time(micros(*last)), settings);
    }
    if (history.rows_without_detail() > 0)
        fmt::print("{} rows stored before healerd kept what its detectors read (schema 6) were skipped.\n",
                   history.rows_without_detail());
    if (history.restarts() > 0)
        fmt::print("The detectors started over {} time(s), at gaps of over {} s where healerd did not sample.\n",
                   history.restarts(), gap_of(config).count());
}

}  // namespace

Command add_replay_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "replay", "Run detection offline: over healerd's stored history with the settings of a healerd.conf, "
                  "or the original detector over a CSV of timestamp,value rows");
    auto options = std::make_shared<ReplayOptions>();
    sub->add_option("FILE", options->file,
                    "CSV file of timestamp,value rows (- reads standard input); without it, the stored history");
    sub->add_option("--column", options->column,
                    "The FILE's value column, named in its header: cpu or memory for healctl metrics --format csv")
        ->type_name("NAME");
    add_detector_options(sub, options->detector);
    auto* history = sub->add_option_group("History", "Replaying the stored history (no FILE)");
    history->add_option("--since", options->since, "From this time (e.g. -7d, \"2h ago\", 2025-01-15); default: all")
        ->type_name("TIME");
    history->add_option("--until", options->until, "Up to this time; default: now")->type_name("TIME");
    history->add_option("--unit", options->units, "Only this target (repeat for more); machine is the machine")
        ->type_name("UNIT");
    history->add_option("--database", options->database,
                        "The database to read; default: [Storage] Path= of the config, or healerd's state directory")
        ->type_name("FILE");
    return {sub, [&global, options] {
                if (options->file.empty()) {
                    if (options->column)
                        throw CtlError(Exit::usage, "--column names a column of a CSV FILE.");
                    if (options->detector.any_parameter())
                        throw CtlError(Exit::usage, "the detector parameters (--window, --k, ...) apply to a CSV "
                                                    "FILE; the stored history is replayed with --config's settings.");
                    for (std::string& unit : options->units)
                        if (unit == "machine") unit.clear();
                    replay_history(*options, global);
                    return;
                }
                if (options->since || options->until || !options->units.empty() || options->database)
                    throw CtlError(Exit::usage, "--since, --until, --unit and --database replay the stored "
                                                "history, not a FILE.");
                print_csv_replay(*options, global);
            }};
}

}  // namespace healctl
