#pragma once
// heal-bench detect: replays a labelled trace corpus (tests/fixtures/traces/)
// through healerd's Monitor, once per detector configuration, and prints
// each one's precision, recall, delay, false-alarm rate and CPU cost
// (scored as detect_score.hpp says).
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace heal::bench {

struct DetectOptions {
    std::string corpus;               // CSV or CSV.gz; the repository's corpus by default
    std::vector<std::string> limits;  // UNIT:MemoryMax=SIZE, on top of the corpus' limits file
    std::string config;               // healerd.conf whose detection and probe settings apply; "" for the defaults
    double soak_days = 0.0;           // of resampled healthy ticks per target; 0 for none
    std::uint64_t soak_seed = 1;
};

// Registers the `detect` subcommand and its options, bound to `options`.
CLI::App* add_detect_command(CLI::App& app, DetectOptions& options);

// Prints the figures; 0 when done, 2 (with a message) for a bad argument or corpus.
int bench_detect(const DetectOptions& options);

}  // namespace heal::bench
