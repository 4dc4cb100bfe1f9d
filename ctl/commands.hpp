#pragma once
// Each healctl subcommand registers its options on the CLI11 app and returns
// the code that runs it once the whole command line has parsed cleanly.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bus_client.hpp"

namespace healctl {

struct GlobalOptions {
    bool json = false;  // machine-readable output
    bool user = false;  // the session bus (healerd --user)

    BusScope scope() const { return user ? BusScope::user : BusScope::system; }
};

struct Command {
    CLI::App* app;
    // Throws CtlError on failure; returning means exit status 0.
    std::function<void()> run;
};

Command add_status_command(CLI::App& app, const GlobalOptions& global);
Command add_is_failed_command(CLI::App& app, const GlobalOptions& global);
Command add_watch_command(CLI::App& app, const GlobalOptions& global);
Command add_metrics_command(CLI::App& app, const GlobalOptions& global);
Command add_actions_command(CLI::App& app, const GlobalOptions& global);
Command add_incidents_command(CLI::App& app, const GlobalOptions& global);
Command add_summary_command(CLI::App& app, const GlobalOptions& global);
Command add_detect_command(CLI::App& app, const GlobalOptions& global);
Command add_recover_command(CLI::App& app, const GlobalOptions& global);
Command add_train_command(CLI::App& app, const GlobalOptions& global);
Command add_simulate_failure_command(CLI::App& app, const GlobalOptions& global);
Command add_pause_command(CLI::App& app, const GlobalOptions& global);
Command add_resume_command(CLI::App& app, const GlobalOptions& global);
Command add_policy_command(CLI::App& app, const GlobalOptions& global);
Command add_replay_command(CLI::App& app, const GlobalOptions& global);
Command add_probe_command(CLI::App& app, const GlobalOptions& global);
Command add_export_incidents_command(CLI::App& app, const GlobalOptions& global);

// train --from: training offline on export-incidents files (cmd_fleet.cpp).
struct TrainFromOptions {
    std::vector<std::string> files;
    std::optional<std::string> output;
    std::optional<std::uint64_t> seed;
};
void add_train_from_options(CLI::App* sub, TrainFromOptions& options);
void train_from_exports(const TrainFromOptions& options, std::uint32_t episodes, bool json);

}  // namespace healctl
