#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "json_output.hpp"
#include "status_view.hpp"

namespace healctl {

Command add_status_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "status", "Show health, current values with sparklines of the last 50 samples, policy, model and last action");
    return {sub, [&global] {
                BusClient client(global.scope());
                const StatusSnapshot snapshot = fetch_status(client);
                if (global.json) print_json(status_json(snapshot));
                else fmt::print("{}", render_status(snapshot));
            }};
}

namespace {

struct IsFailedOptions {
    std::string unit;  // "" for healerd's overall health
    bool quiet = false;
};

// The target's state: Health for the machine and every unit together, else
// the unit's entry in UnitStates.
std::string state_of(const DaemonState& state, const std::string& unit) {
    if (unit.empty()) return state.health;
    for (const auto& [name, unit_state] : state.unit_states)
        if (name == unit) return unit_state;
    throw CtlError(Exit::usage, fmt::format("{} is not a watched unit.", unit));
}

}  // namespace

Command add_is_failed_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "is-failed", "Exit 0 if healerd finds the machine or a unit (or UNIT) in failure, 1 if not; print the state");
    auto options = std::make_shared<IsFailedOptions>();
    sub->add_option("unit", options->unit, "Watched unit (default: anything healerd watches)");
    sub->add_flag("--quiet,-q", options->quiet, "Print nothing; only the exit status answers");
    return {sub, [&global, options] {
                BusClient client(global.scope());
                const std::string state = state_of(client.state(), options->unit);
                const bool failed = state == "failed";
                if (!options->quiet) {
                    if (global.json)
                        print_json({{"unit", options->unit}, {"state", state}, {"failed", failed}});
                    else
                        fmt::print("{}\n", state);
                }
                if (!failed) throw CtlError(Exit::failed, "");
            }};
}

}  // namespace healctl
