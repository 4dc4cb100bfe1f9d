// healctl pause / resume: monit's unmonitor and monitor. A paused target is
// still sampled and shown, but healerd takes no action on it.
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config/config.hpp"
#include "json_output.hpp"

namespace healctl {

namespace {

struct PauseOptions {
    std::string unit;       // "" for the machine
    std::string duration;   // systemd time span; "" for until resumed
};

// Whole seconds of a systemd time span of at least one second.
std::uint64_t pause_seconds(const std::string& duration) {
    if (duration.empty()) return 0;
    const auto span = heal::parse_timespan(duration);
    return static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::seconds>(*span).count());
}

std::string check_duration(const std::string& text) {
    const auto span = heal::parse_timespan(text);
    if (!span) return fmt::format("'{}' is not a time span (e.g. 90s, 2min, 1h 30min)", text);
    if (*span < std::chrono::seconds(1)) return fmt::format("'{}' is shorter than a second", text);
    return {};
}

void add_unit_argument(CLI::App* sub, PauseOptions& options) {
    sub->add_option("unit", options.unit, "Watched unit (default: the machine)");
}

void print_done(const GlobalOptions& global, const std::string& unit, const std::string& description) {
    if (global.json)
        print_json({{"status", description}, {"unit", unit}});
    else
        fmt::print("{}\n", description);
}

}  // namespace

Command add_pause_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "pause", "Stop acting on a watched unit (or the machine) for maintenance; it is still sampled and shown");
    auto options = std::make_shared<PauseOptions>();
    add_unit_argument(sub, *options);
    sub->add_option("--for", options->duration,
                    "End the pause after this time span (e.g. 2min); default: until resumed")
        ->check(CLI::Validator(check_duration, "DURATION"));
    return {sub, [&global, options] {
                BusClient client(global.scope());
                print_done(global, options->unit, client.pause(options->unit, pause_seconds(options->duration)));
            }};
}

Command add_resume_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("resume", "Act on a paused unit (or the machine) again");
    auto options = std::make_shared<PauseOptions>();
    add_unit_argument(sub, *options);
    return {sub, [&global, options] {
                BusClient client(global.scope());
                print_done(global, options->unit, client.resume(options->unit));
            }};
}

}  // namespace healctl
