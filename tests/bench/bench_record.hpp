#pragma once
// heal-bench record: samples the machine and some units with healerd's own
// sampler at a fixed interval and writes one CSV row per target per tick, for
// the trace corpus (tests/fixtures/traces/, recorded by record-traces.sh).
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace heal::bench {

struct RecordOptions {
    std::vector<std::string> units;
    long long seconds = 0;
    std::string out;
    std::string state_dir;  // where the scenario writes UNIT.probe and UNIT.label; "" for none
    long long interval_ms = 1000;
};

// Registers the `record` subcommand and its options, bound to `options`.
CLI::App* add_record_command(CLI::App& app, RecordOptions& options);

// Records; 0 when done, 2 (with a one-sentence message) for a bad argument.
int bench_record(const RecordOptions& options);

}  // namespace heal::bench
