#include <fmt/format.h>

#include "commands.hpp"
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

}  // namespace

Command add_policy_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("policy", "Show the probability of each action for the current state");
    return {sub, [&global] {
                BusClient client(global.scope());
                const PolicyView view = client.policy();
                if (global.json) {
                    print_json(view);
                    return;
                }
                fmt::print("Policy: {} (would choose {})\n", view.name, most_probable_action(view));
                Table table({"ACTION", "PROBABILITY", ""});
                for (const auto& [action, probability] : view.probabilities)
                    table.add_row({action, fmt::format("{:.3f}", probability), bar(probability)});
                fmt::print("{}", table.render());
            }};
}

}  // namespace healctl
