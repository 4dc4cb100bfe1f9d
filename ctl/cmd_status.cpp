#include <fmt/format.h>

#include "commands.hpp"
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

}  // namespace healctl
