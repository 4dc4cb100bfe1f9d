// metrics, actions, incidents, summary: what healerd has stored.
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_output.hpp"
#include "render.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

constexpr std::uint32_t kMaxLimit = 10000;  // the API's bound

// Capitalised, as the original design's metric rows are.
std::string status_word(const std::string& health) { return health == "healthy" ? "Healthy" : "Failed"; }

void add_limit_option(CLI::App* sub, std::uint32_t& limit, std::string_view what) {
    sub->add_option("--limit,-n", limit, fmt::format("Newest {} to show", what))
        ->check(CLI::Range(1u, kMaxLimit))
        ->capture_default_str();
}

}  // namespace

Command add_metrics_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("metrics", "List the newest samples, machine and watched units");
    auto limit = std::make_shared<std::uint32_t>(50);
    add_limit_option(sub, *limit, "samples");
    return {sub, [&global, limit] {
                BusClient client(global.scope());
                const auto points = client.metrics(*limit);
                const std::string status = status_word(client.health());
                if (global.json) {
                    print_json({{"status", status}, {"metrics", points}});
                    return;
                }
                fmt::print("Status: {}\n", paint_state(status));
                Table table({"TIME", "CPU", "MEMORY", "STATUS", "UNIT"});
                for (const auto& p : points)
                    table.add_row({local_time(p.timestamp), percent(p.cpu), percent(p.memory), paint_state(p.status),
                                   p.unit.empty() ? "-" : p.unit});
                fmt::print("{}", table.render());
            }};
}

Command add_actions_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("actions", "List the newest recoveries and their outcomes");
    auto limit = std::make_shared<std::uint32_t>(50);
    add_limit_option(sub, *limit, "recoveries");
    return {sub, [&global, limit] {
                BusClient client(global.scope());
                const auto entries = client.actions(*limit);
                if (global.json) {
                    print_json(entries);
                    return;
                }
                if (entries.empty()) {
                    fmt::print("No recoveries yet.\n");
                    return;
                }
                Table table({"TIME", "ACTION", "RESULT", "REWARD", "RECOVERY", "UNIT", "KIND"});
                for (const auto& e : entries)
                    table.add_row({local_time(e.timestamp), e.action, paint_state(e.result), fmt::format("{:.2f}", e.reward),
                                   optional_seconds(e.recovery_time),
                                   e.unit.empty() ? "-" : e.unit, e.failure_kind.empty() ? "-" : e.failure_kind});
                fmt::print("{}", table.render());
            }};
}

Command add_incidents_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("incidents", "List the newest incidents: failures and how they ended");
    auto limit = std::make_shared<std::uint32_t>(50);
    add_limit_option(sub, *limit, "incidents");
    return {sub, [&global, limit] {
                BusClient client(global.scope());
                const auto entries = client.incidents(*limit);
                if (global.json) {
                    print_json(entries);
                    return;
                }
                if (entries.empty()) {
                    fmt::print("No incidents yet.\n");
                    return;
                }
                Table table({"OPENED", "UNIT", "KIND", "OUTCOME", "ATTEMPTS", "RELAPSES", "RECOVERY", "DETAIL"});
                for (const auto& e : entries)
                    table.add_row({local_time(e.opened), e.unit.empty() ? "-" : e.unit,
                                   e.failure_kind.empty() ? "-" : e.failure_kind, paint_state(e.outcome),
                                   std::to_string(e.attempts), std::to_string(e.relapses),
                                   optional_seconds(time_to_recover(e)), e.detail});
                fmt::print("{}", table.render());
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
