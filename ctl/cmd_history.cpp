// metrics, actions, incidents, summary: what healerd has stored.
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "history_export.hpp"
#include "json_output.hpp"
#include "render.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

// Capitalised, as the original design's metric rows are.
std::string status_word(const std::string& health) { return health == "healthy" ? "Healthy" : "Failed"; }

std::string target_cell(const std::string& unit) { return unit.empty() ? "-" : unit; }

std::string number(double value) { return fmt::format("{}", value); }

std::string optional_number(const std::optional<double>& value) { return value ? number(*value) : ""; }

std::string optional_time(const std::optional<Microseconds>& time) { return time ? iso8601_utc(*time) : ""; }

// Says so when no row was written to a table: an empty table says nothing.
void say_if_empty(std::size_t rows, const HistoryRequest& request, std::string_view none_yet,
                  std::string_view what) {
    if (rows > 0 || request.format != Format::table) return;
    if (request.filtered()) fmt::print("No {} match.\n", what);
    else fmt::print("{}\n", none_yet);
}

}  // namespace

Command add_metrics_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("metrics", "List stored samples, machine and watched units, oldest first");
    auto options = std::make_shared<HistoryOptions>();
    add_history_options(sub, *options, "samples");
    return {sub, [&global, options] {
                const HistoryRequest request = resolve_history(*options, global);
                BusClient client(global.scope());
                // {"status": ..., "metrics": [...]}: the health, then the samples.
                JsonFrame frame{"", "", 0};
                if (request.format != Format::csv) {
                    const std::string status = status_word(client.health());
                    if (request.format == Format::table) fmt::print("Status: {}\n", paint_state(status));
                    frame = {fmt::format("{{\n  \"status\": {},\n  \"metrics\": ", dump_json(status, -1)), "\n}", 1};
                }
                RowWriter out(request.format, {"TIME", "CPU", "MEMORY", "STATUS", "UNIT"},
                              {"timestamp", "unit", "cpu", "memory", "status"}, frame);
                each_row<MetricPoint>(
                    request,
                    [&client](const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit) {
                        return client.list_metrics(filter, after, limit);
                    },
                    [&out](const MetricPoint& p) {
                        out.add({local_time(p.timestamp), percent(p.cpu), percent(p.memory), paint_state(p.status),
                                 target_cell(p.unit)},
                                {iso8601_utc(p.timestamp), p.unit, number(p.cpu), number(p.memory), p.status},
                                [&p] { return Json(p); });
                    });
                say_if_empty(out.end(), request, "No samples yet.", "samples");
            }};
}

Command add_actions_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("actions", "List recoveries and their outcomes, oldest first");
    auto options = std::make_shared<HistoryOptions>();
    add_history_options(sub, *options, "recoveries");
    return {sub, [&global, options] {
                const HistoryRequest request = resolve_history(*options, global);
                BusClient client(global.scope());
                RowWriter out(request.format, {"TIME", "ACTION", "RESULT", "REWARD", "RECOVERY", "UNIT", "KIND"},
                              {"timestamp", "unit", "action", "result", "reward", "recovery_seconds", "failure_kind",
                               "incident_id"});
                each_row<ActionEntry>(
                    request,
                    [&client](const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit) {
                        return client.list_actions(filter, after, limit);
                    },
                    [&out](const ActionEntry& e) {
                        out.add({local_time(e.timestamp), e.action, paint_state(e.result),
                                 fmt::format("{:.2f}", e.reward), optional_seconds(e.recovery_time),
                                 target_cell(e.unit), e.failure_kind.empty() ? "-" : e.failure_kind},
                                {iso8601_utc(e.timestamp), e.unit, e.action, e.result, number(e.reward),
                                 optional_number(e.recovery_time), e.failure_kind,
                                 e.incident_id ? std::to_string(*e.incident_id) : ""},
                                [&e] { return Json(e); });
                    });
                say_if_empty(out.end(), request, "No recoveries yet.", "recoveries");
            }};
}

Command add_incidents_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("incidents", "List incidents, failures and how they ended, oldest first");
    auto options = std::make_shared<HistoryOptions>();
    add_history_options(sub, *options, "incidents");
    return {sub, [&global, options] {
                const HistoryRequest request = resolve_history(*options, global);
                BusClient client(global.scope());
                RowWriter out(request.format,
                              {"OPENED", "UNIT", "KIND", "OUTCOME", "ATTEMPTS", "RELAPSES", "RECOVERY", "DETAIL"},
                              {"id", "unit", "failure_kind", "outcome", "opened", "closed", "healthy_since",
                               "recovery_seconds", "attempts", "relapses", "detail"});
                each_row<IncidentEntry>(
                    request,
                    [&client](const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit) {
                        return client.list_incidents(filter, after, limit);
                    },
                    [&out](const IncidentEntry& e) {
                        out.add({local_time(e.opened), target_cell(e.unit),
                                 e.failure_kind.empty() ? "-" : e.failure_kind, paint_state(e.outcome),
                                 std::to_string(e.attempts), std::to_string(e.relapses),
                                 optional_seconds(time_to_recover(e)), e.detail},
                                {std::to_string(e.id), e.unit, e.failure_kind, e.outcome, iso8601_utc(e.opened),
                                 optional_time(e.closed), optional_time(e.healthy_since),
                                 optional_number(time_to_recover(e)), std::to_string(e.attempts),
                                 std::to_string(e.relapses), e.detail},
                                [&e] { return Json(e); });
                    });
                say_if_empty(out.end(), request, "No incidents yet.", "incidents");
            }};
}

Command add_summary_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("summary", "Show recovery and incident totals, success rate and MTTR");
    return {sub, [&global] {
                BusClient client(global.scope());
                const SummaryStats s = client.summary();
                if (global.json) {
                    print_json(s);
                    return;
                }
                const auto line = [](std::string_view label, const std::string& value) {
                    fmt::print("{:<23}{}\n", label, value);
                };
                line("Recoveries", std::to_string(s.total_actions));
                line("Succeeded", std::to_string(s.successes));
                line("Failed", std::to_string(s.failures));
                line("Success rate", percent(s.success_rate));
                line("MTTR", optional_seconds(s.avg_mttr));
                fmt::print("\n");
                line("Incidents", std::to_string(s.incidents));
                const auto rate = resolved_rate(s);
                line("Resolved",
                     rate ? fmt::format("{} ({})", s.resolved, percent(*rate)) : std::to_string(s.resolved));
                line("Given up", std::to_string(s.given_up));
                line("Attempts per incident",
                     s.attempts_per_incident ? fmt::format("{:.2f}", *s.attempts_per_incident) : "-");
                line("Relapses", std::to_string(s.relapses));
                line("MTTR", optional_seconds(s.mttr));
                line("Passed on their own", fmt::format("{} (no action taken: not counted above)", s.self_resolved));
            }};
}

}  // namespace healctl
