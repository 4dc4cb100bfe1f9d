#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_output.hpp"
#include "render.hpp"

namespace healctl {

Command add_detect_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "detect", "Run the detector on the current sample, optionally with CPU/memory values of your own");
    auto overrides = std::make_shared<DetectOverrides>();
    sub->add_option("--cpu", overrides->cpu, "CPU % to judge instead of the measured one")
        ->check(CLI::Range(0.0, 100.0));
    sub->add_option("--memory", overrides->memory, "Memory % to judge instead of the measured one")
        ->check(CLI::Range(0.0, 100.0));
    return {sub, [&global, overrides] {
                BusClient client(global.scope());
                const DetectResult result = client.detect(*overrides);
                if (global.json) {
                    print_json(result);
                    return;
                }
                fmt::print("{}: {}\n", result.detected ? "Failure detected" : "No failure", result.status);
                Table table({"METRIC", "VALUE", "THRESHOLD", "ANOMALOUS", "REASON"});
                for (const auto& v : result.verdicts) {
                    // A health probe's figures are its latency and timeout; every other metric's a percentage.
                    const bool probe = v.metric.ends_with(":probe");
                    const auto value = [probe](double x) { return probe ? fmt::format("{:.1f} ms", x) : percent(x); };
                    table.add_row({v.metric, value(v.value), value(v.threshold), v.anomalous ? "yes" : "no", v.reason});
                }
                fmt::print("{}", table.render());
            }};
}

}  // namespace healctl
