#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_output.hpp"

namespace healctl {

namespace {

struct SimulateOptions {
    std::string kind = "synthetic";
    std::string unit;
};

}  // namespace

Command add_simulate_failure_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("simulate-failure", "Inject a failure for healerd to detect and recover");
    auto options = std::make_shared<SimulateOptions>();
    sub->add_option("--kind,-k", options->kind,
                    "synthetic pushes high CPU/memory values into the metric stream; the others act on a "
                    "watched demo unit")
        ->check(CLI::IsMember({"synthetic", "cpu_runaway", "memory_leak", "crash", "hang"}))
        ->capture_default_str();
    sub->add_option("--unit,-u", options->unit, "Watched unit to act on (default: healerd chooses)");
    return {sub, [&global, options] {
                BusClient client(global.scope());
                const std::string description = client.simulate_failure(options->kind, options->unit);
                if (global.json)
                    print_json({{"status", description}, {"kind", options->kind}, {"unit", options->unit}});
                else
                    fmt::print("{}\n", description);
            }};
}

}  // namespace healctl
