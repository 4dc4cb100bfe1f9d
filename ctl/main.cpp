// healctl: inspect and control healerd over D-Bus, and run its detector offline.
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "render.hpp"

using namespace healctl;

int main(int argc, char** argv) {
    CLI::App app{"Inspect and control healerd, the self-healing daemon.", "healctl"};
    app.set_version_flag("--version", HEAL_VERSION);
    GlobalOptions global;
    app.add_flag("--json", global.json, "Print JSON instead of text");
    app.add_flag("--user", global.user, "Talk to `healerd --user` on the session bus");
    bool no_color = false;
    app.add_flag("--no-color", no_color, "Never colour the text (also: NO_COLOR set, or not a terminal)");
    app.require_subcommand(1);
    app.fallthrough();  // the global options may also follow the command name

    const std::vector<Command> commands{
        add_status_command(app, global),   add_is_failed_command(app, global),
        add_watch_command(app, global),
        add_metrics_command(app, global),  add_actions_command(app, global),
        add_incidents_command(app, global), add_export_incidents_command(app, global),
        add_summary_command(app, global),
        add_detect_command(app, global),
        add_recover_command(app, global),  add_train_command(app, global),
        add_simulate_failure_command(app, global), add_pause_command(app, global),
        add_resume_command(app, global),   add_policy_command(app, global),
        add_replay_command(app, global),   add_probe_command(app, global),
    };

    // CLI11 shows a subcommand's options only: say what else applies.
    constexpr const char* kFooter =
        "Global options (before or after the command): --json, --user, --no-color.\n"
        "Exit status: 0 done, 1 failed or refused, 2 usage error (nothing done), 3 healerd unreachable;\n"
        "is-failed: 0 in failure, 1 not. See healctl(1).";
    app.footer(kFooter);
    for (const Command& command : commands) command.app->footer(kFooter);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; every real parse error is a usage
        // error, said in one sentence as every other error is.
        if (e.get_exit_code() == 0) return app.exit(e);
        std::string help = "healctl";
        for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
            sub = sub->get_subcommands().front();
            help += " " + sub->get_name();
        }
        fmt::print(stderr, "healctl: {} (see {} --help).\n", e.what(), help);
        return static_cast<int>(Exit::usage);
    }

    set_colour(!global.json && colour_wanted(is_terminal(stdout), no_color, std::getenv("NO_COLOR"), std::getenv("TERM")));
    try {
        for (const Command& command : commands)
            if (command.app->parsed()) command.run();
        return static_cast<int>(Exit::ok);
    } catch (const CtlError& e) {
        if (*e.what() != '\0') fmt::print(stderr, "healctl: {}\n", e.what());
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        fmt::print(stderr, "healctl: {}\n", e.what());
        return static_cast<int>(Exit::failed);
    }
}
