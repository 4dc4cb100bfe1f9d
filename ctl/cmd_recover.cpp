#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "json_output.hpp"
#include "render.hpp"

namespace healctl {

namespace {

struct RecoverOptions {
    std::string unit;    // "" lets healerd choose
    std::string action;  // "" lets the policy choose
};

}  // namespace

Command add_recover_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("recover", "Run one recovery now and wait until it is validated");
    auto options = std::make_shared<RecoverOptions>();
    sub->add_option("--unit,-u", options->unit, "Watched unit to recover (default: healerd chooses)");
    sub->add_option("--action,-a", options->action, "Action to run (default: the policy chooses)")
        ->check(CLI::IsMember({"restart", "scale_up", "rollback", "do_nothing"}));
    return {sub, [&global, options] {
                BusClient client(global.scope());
                const RecoverResult r = client.recover(options->unit, options->action);
                if (global.json) print_json(r);
                else
                    fmt::print("{} on {}: {}{} (reward {:.2f})\n{}", r.action, r.unit.empty() ? "the machine" : r.unit,
                               r.result, r.recovery_time ? fmt::format(" in {}", seconds(*r.recovery_time)) : "",
                               r.reward, r.detail.empty() ? "" : r.detail + "\n");
                if (r.result != "recovered")
                    throw CtlError(Exit::failed, fmt::format("{} did not recover {}.", r.action,
                                                             r.unit.empty() ? "the machine" : r.unit));
            }};
}

}  // namespace healctl
