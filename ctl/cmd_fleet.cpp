// One policy for a fleet (docs/fleet.md): export-incidents writes this
// host's incidents with their attempts as JSON Lines; train --from trains one
// model from many hosts' exports, offline, with its provenance.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "error.hpp"
#include "history_export.hpp"
#include "json_output.hpp"
#include "render.hpp"
#include "rl/provenance.hpp"
#include "rl/trainer.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

// The line format's version, first in every line.
constexpr int kExportFormat = 1;

// Every closed incident of the filter with its attempts, one JSON object a
// line: {"format": 1, "host": ..., "incident": INCIDENT, "attempts": [ACTION...]}
// in the shapes of `healctl incidents --json` and `healctl actions --json`.
void export_incidents(BusClient& client, const HistoryRequest& request) {
    std::map<std::uint64_t, Json> attempts;
    HistoryRequest every = request;
    every.newest.reset();
    every.filter.until.reset();  // an incident's attempts may come after its window
    each_row<ActionEntry>(
        every,
        [&client](const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit) {
            return client.list_actions(filter, after, limit);
        },
        [&attempts](const ActionEntry& entry) {
            if (!entry.incident_id) return;
            Json& list = attempts[*entry.incident_id];
            if (list.is_null()) list = Json::array();
            list.push_back(entry);
        });
    const std::string host = heal::local_host_name();
    each_row<IncidentEntry>(
        request,
        [&client](const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit) {
            return client.list_incidents(filter, after, limit);
        },
        [&](const IncidentEntry& incident) {
            if (incident.outcome == "open") return;  // still to end: nothing to learn yet
            const auto found = attempts.find(incident.id);
            const Json line = {{"format", kExportFormat},
                               {"host", host},
                               {"incident", incident},
                               {"attempts", found == attempts.end() ? Json::array() : found->second}};
            fmt::print("{}\n", dump_json(line, -1));
        });
}

// What train --from learns from, read from the exports.
struct FleetHistory {
    std::vector<heal::Outcome> outcomes;
    std::set<std::string> hosts;
    std::int64_t incidents = 0;
};

[[noreturn]] void bad_line(const std::string& file, std::size_t line, const std::string& problem) {
    throw CtlError(Exit::failed, fmt::format("{}:{}: {}.", file, line, problem));
}

// Adds one export line's finished attempts; an incident already read (the
// same host and id, as when a file is given twice) is skipped.
void read_line(const std::string& file, std::size_t number, const std::string& text, FleetHistory& history,
               std::set<std::pair<std::string, std::uint64_t>>& seen) {
    const Json line = Json::parse(text, nullptr, false);
    if (!line.is_object()) bad_line(file, number, "not a JSON object");
    try {
        if (line.at("format").get<int>() != kExportFormat)
            bad_line(file, number, fmt::format("format {} (this healctl reads format {})", line.at("format").dump(),
                                               kExportFormat));
        const std::string host = line.at("host").get<std::string>();
        const Json& incident = line.at("incident");
        if (!seen.emplace(host, incident.at("id").get<std::uint64_t>()).second) return;
        const Json& kind_text = incident.at("failure_kind");
        const auto kind = kind_text.is_null() ? heal::FailureKind::transient
                                              : heal::parse_failure_kind(kind_text.get<std::string>());
        if (!kind) bad_line(file, number, fmt::format("unknown failure kind {}", kind_text.dump()));
        history.hosts.insert(host);
        ++history.incidents;
        for (const Json& attempt : line.at("attempts")) {
            const std::string result = attempt.at("result").get<std::string>();
            // Only finished attempts are outcomes (a dry run or interrupted one is not).
            if (result != "recovered" && result != "failed" && result != "relapsed") continue;
            const auto action = heal::parse_action(attempt.at("action").get<std::string>());
            if (!action) bad_line(file, number, fmt::format("unknown action {}", attempt.at("action").dump()));
            const Json& seconds = attempt.at("recovery_time");
            history.outcomes.push_back({*action, *kind, result != "failed",
                                        seconds.is_number() ? seconds.get<double>() : 0.0, result == "relapsed"});
        }
    } catch (const Json::exception& e) {
        bad_line(file, number, fmt::format("not an incident export line ({})", e.what()));
    }
}

FleetHistory read_exports(const std::vector<std::string>& files) {
    FleetHistory history;
    std::set<std::pair<std::string, std::uint64_t>> seen;
    for (const std::string& file : files) {
        std::ifstream in(file);
        if (!in) throw CtlError(Exit::usage, fmt::format("cannot open {}: {}.", file, std::strerror(errno)));
        std::size_t number = 0;
        for (std::string text; std::getline(in, text);) {
            ++number;
            if (text.find_first_not_of(" \t\r") != std::string::npos) read_line(file, number, text, history, seen);
        }
    }
    return history;
}

}  // namespace

Command add_export_incidents_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("export-incidents",
                                       "Write this host's ended incidents with their attempts as JSON Lines, for "
                                       "train --from on another host");
    auto options = std::make_shared<HistoryOptions>();
    add_history_options(sub, *options, "incidents");
    return {sub, [&global, options] {
                HistoryOptions history = *options;
                if (!history.limit) history.limit = "all";  // an export is of everything unless asked
                if (history.format && *history.format != "json")
                    throw CtlError(Exit::usage, "export-incidents writes JSON Lines only (--format json).");
                const HistoryRequest request = resolve_history(history, GlobalOptions{true, global.user});
                BusClient client(global.scope());
                export_incidents(client, request);
            }};
}

void add_train_from_options(CLI::App* sub, TrainFromOptions& options) {
    sub->add_option("--from", options.files,
                    "Train offline, without healerd, on these export-incidents files (one or more hosts)")
        ->type_name("FILE...")
        ->check(CLI::ExistingFile);
    sub->add_option("--output,-o", options.output, "With --from: where to write the model (then ship it to "
                                                    "each host's state directory as policy.model)")
        ->type_name("FILE");
    sub->add_option("--seed", options.seed, "With --from: the training's random seed (default: random)");
}

void train_from_exports(const TrainFromOptions& options, std::uint32_t episodes, bool json) {
    if (!options.output)
        throw CtlError(Exit::usage, "train --from needs --output FILE: where to write the model.");
    const FleetHistory history = read_exports(options.files);
    if (history.outcomes.empty())
        throw CtlError(Exit::failed, fmt::format("no finished attempt in {}: nothing to learn from.",
                                                 fmt::join(options.files, ", ")));
    heal::TrainingRequest request;
    request.episodes = episodes;
    request.seed = options.seed.value_or(std::random_device{}());
    request.history = history.outcomes;
    request.model_path = *options.output;
    request.provenance = heal::provenance_json(
        {"healctl train --from", {history.hosts.begin(), history.hosts.end()}, history.incidents, episodes,
         request.seed},
        request.history);
    ProgressBar bar(stderr, !json && is_terminal(stderr));
    const std::atomic<bool> cancel{false};
    heal::TrainingResult result;
    try {
        result = heal::train_recovery_policy(
            request,
            [&bar, json](const heal::TrainingProgress& p) {
                if (!json) bar.update(p.episode, p.episodes, fmt::format("mean reward {:.2f}", p.mean_reward));
            },
            cancel);
    } catch (const heal::ModelError& e) {
        throw CtlError(Exit::failed, as_sentence(e.what()));
    }
    bar.finish();
    const std::string origin = heal::describe_provenance(request.provenance).value_or("");
    if (json) {
        print_json({{"model", request.model_path.string()},
                    {"episodes", result.episodes},
                    {"mean_reward", result.mean_reward},
                    {"provenance", Json::parse(request.provenance)}});
        return;
    }
    fmt::print("Trained {} episodes, mean reward {:.2f}; saved {}.\nProvenance: {}.\n", result.episodes,
               result.mean_reward, request.model_path.string(), origin);
}

}  // namespace healctl
