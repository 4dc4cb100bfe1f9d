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
                Table table({"SIGNAL", "VALUE", "THRESHOLD", "FIRING", "REASON"});
                for (const auto& v : result.verdicts) {
                    // A health probe's figures are its latency and timeout, memory_leak's bytes; every
                    // other signal's a percentage.
                    const bool probe = v.metric.ends_with("probe");
                    const bool bytes = v.metric.ends_with("memory_leak");
                    const auto value = [probe, bytes](double x) {
                        if (probe) return fmt::format("{:.1f} ms", x);
                        if (bytes) return fmt::format("{:.1f} MiB", x / (1024.0 * 1024.0));
                        return percent(x);
                    };
                    table.add_row({v.metric, value(v.value), value(v.threshold), v.anomalous ? "yes" : "no", v.reason});
                }
                fmt::print("{}", table.render());
            }};
}

}  // namespace healctl
