#pragma once
// heal-bench storage: fills a fresh database the way the daemon does (one
// transaction per sampling tick) up to its default retention cap, and prints
// insert throughput, query latencies, the file's size, and that retention
// keeps the file bounded.
#include <cstdint>
#include <filesystem>
#include <optional>

#include <CLI/CLI.hpp>

namespace heal::bench {

struct StorageOptions {
    std::int64_t metrics = 0;  // set from the daemon's default MaxRows by add_storage_command
    std::int64_t actions = 100'000;
    std::optional<std::filesystem::path> dir;  // where the scratch directory goes; $TMPDIR if absent
};

// Registers the `storage` subcommand and its options, bound to `options`.
CLI::App* add_storage_command(CLI::App& app, StorageOptions& options);

// Prints the figures on stdout (`name value unit`), progress on stderr.
int bench_storage(const StorageOptions& options);

}  // namespace heal::bench
