#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "rl/provenance.hpp"
#include "json_output.hpp"
#include "render.hpp"

namespace healctl {

namespace {

constexpr int kBarWidth = 20;

std::string bar(double probability) {
    const int filled = static_cast<int>(probability * kBarWidth + 0.5);
    std::string out;
    for (int i = 0; i < filled && i < kBarWidth; ++i) out += "█";
    return out;
}

std::string incident_line(const DecisionView& view) {
    if (view.incident == "none") return "no open incident";
    std::string line = fmt::format("{}, {} attempt(s), {} relapse(s)", view.incident, view.attempts, view.relapses);
    if (view.next_attempt_in) line += fmt::format(", next attempt in {}", seconds(*view.next_attempt_in));
    return line;
}

}  // namespace

Command add_policy_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "policy", "Show the action recover would run now, and why every other action would not run");
    auto unit = std::make_shared<std::string>();
    sub->add_option("--unit,-u", *unit, "Watched unit (default: the target recover would choose)");
    return {sub, [&global, unit] {
                BusClient client(global.scope());
                const DecisionView view = client.decision(*unit);
                const std::string provenance = client.model_provenance();
                if (global.json) {
                    Json document = view;
                    document["model_provenance"] = provenance.empty() ? Json(nullptr) : Json::parse(provenance, nullptr, false);
                    print_json(document);
                    return;
                }
                fmt::print("Policy    {}\n", view.policy);
                if (!provenance.empty())
                    fmt::print("Model     {}\n", heal::describe_provenance(provenance).value_or("provenance unreadable"));
                fmt::print("Target    {}\nIncident  {}\n", view.target.empty() ? "the machine" : view.target,
                           incident_line(view));
                if (view.action.empty())
                    fmt::print("Would run nothing: {}\n", view.why_none);
                else
                    fmt::print("Would run {}\n", view.action);
                if (!view.shadow.empty()) fmt::print("Shadow    the learned policy would run {}\n", view.shadow);
                Table table({"ACTION", "PROBABILITY", "", "OFFERED"});
                for (const DecisionView::Choice& choice : view.actions)
                    table.add_row({choice.action, fmt::format("{:.3f}", choice.probability), bar(choice.probability),
                                   choice.candidate ? "yes" : "no: " + choice.excluded});
                fmt::print("{}", table.render());
            }};
}

}  // namespace healctl
