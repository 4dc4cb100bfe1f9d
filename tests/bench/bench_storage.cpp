#include "bench_storage.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "config/config.hpp"
#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace heal::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A daemon watching three units: each tick stores the machine and each unit.
constexpr std::array<std::string_view, 4> kTargets{"", "nginx.service", "postgresql.service", "worker.service"};
constexpr auto kRowsPerTick = static_cast<std::int64_t>(kTargets.size());
const TimePoint kStart{std::chrono::seconds(1'717'243'200)};  // 2024-06-01T12:00:00Z, the first tick
// A sanity bound on --metrics and --actions.
constexpr std::int64_t kMaxRowsOption = 1'000'000'000;
// What each round of overshoot and retention prints: the pass's time, the file's size after it.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kRetentionRounds{{
    {"retention_pass_ms", "db_size_after_retention_mib"},
    {"retention_second_pass_ms", "db_size_after_second_retention_mib"},
}};

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Metric row `row` belongs to tick row / 4 and target row % 4; ticks are a second apart.
std::int64_t tick_of(std::int64_t row) { return row / kRowsPerTick; }
TimePoint tick_time(std::int64_t tick) { return kStart + std::chrono::seconds(tick); }

MetricRecord metric_row(std::int64_t row) {
    const std::int64_t tick = tick_of(row);
    const auto target = static_cast<std::size_t>(row % kRowsPerTick);
    return MetricRecord{.timestamp = tick_time(tick),
                        .cpu = static_cast<double>((tick * 7 + static_cast<std::int64_t>(target) * 13) % 100),
                        .memory = 30.0 + static_cast<double>(tick % 40),
                        .healthy = tick % 97 != 0,
                        .unit = std::string(kTargets[target])};
}

// Stores rows [first, first + count), `batch` rows a transaction (the daemon:
// one tick's); returns the number of transactions.
std::int64_t store_rows(Store& store, std::int64_t first, std::int64_t count, std::int64_t batch) {
    std::vector<MetricRecord> rows;
    std::int64_t transactions = 0;
    for (std::int64_t row = first, end = first + count; row < end; ++transactions) {
        rows.clear();
        do rows.push_back(metric_row(row++));
        while (row < end && row % batch != 0);
        store.add_metrics(rows);
    }
    return transactions;
}

// Recoveries spread over the time the metrics cover.
ActionRecord action_row(std::int64_t index, std::chrono::seconds spacing) {
    ActionRecord record;
    record.timestamp = kStart + index * spacing;
    record.action = kAllActions[static_cast<std::size_t>(index) % kAllActions.size()];
    record.recovered = index % 4 != 0;
    if (record.recovered) record.recovery_time = 0.5 + static_cast<double>(index % 5);
    record.reward = recovery_reward(record.recovered, record.recovery_time.value_or(0.0));
    record.unit = std::string(kTargets[1 + static_cast<std::size_t>(index) % (kTargets.size() - 1)]);
    record.failure_kind = FailureKind::memory_leak;
    record.state = {0.9f, 0.4f, 0.1f, 1.0f, 0.0f, 1.0f, 0.0f};
    return record;
}

struct Latency {
    double median_ms = 0.0;
    double p95_ms = 0.0;
};

template <typename Query>
Latency time_query(int runs, Query&& query) {
    std::vector<double> ms(static_cast<std::size_t>(runs));
    for (double& each : ms) {
        const auto start = Clock::now();
        query();
        each = ms_since(start);
    }
    std::sort(ms.begin(), ms.end());
    const std::size_t n = ms.size();
    const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    return {median, ms[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1]};
}

// The database with its write-ahead log, if any; the Store checkpoints the
// log into the file when it closes, so measured closed this is the file's size.
double size_mib(const fs::path& database) {
    const fs::path wal = database.string() + "-wal";
    const auto bytes = fs::file_size(database) + (fs::exists(wal) ? fs::file_size(wal) : 0);
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void check_rows(std::size_t got, std::int64_t expected, std::string_view query) {
    if (static_cast<std::int64_t>(got) != expected)
        throw std::runtime_error(fmt::format("{} returned {} rows, expected {}", query, got, expected));
}

}  // namespace

CLI::App* add_storage_command(CLI::App& app, StorageOptions& options) {
    // The daemon's default cap (MaxRows= per table) is the size that matters.
    options.metrics = Config::default_retention().max_rows.value();
    CLI::App* command = app.add_subcommand("storage", "fill a database like the daemon does and time it");
    const CLI::Range rows(std::int64_t{1}, kMaxRowsOption);
    command->add_option("--metrics", options.metrics, "metric rows, 4 per tick (default: the daemon's MaxRows=)")
        ->check(rows)
        ->capture_default_str();
    command->add_option("--actions", options.actions, "action rows")->check(rows)->capture_default_str();
    command->add_option("--dir", options.dir, "directory for the scratch database (default: $TMPDIR or /tmp)");
    return command;
}

int bench_storage(const StorageOptions& options) {
    const test::TempDir scratch(options.dir.value_or(fs::temp_directory_path()));
    const fs::path database = scratch / "heal.db";
    std::optional<Store> store(std::in_place, database);

    fmt::print(stderr, "heal-bench: storing {} metric rows ({} per tick) and {} action rows in {}\n", options.metrics,
               kTargets.size(), options.actions, database.string());
    auto start = Clock::now();
    const std::int64_t ticks = store_rows(*store, 0, options.metrics, kRowsPerTick);
    const double fill_ms = ms_since(start);
    fmt::print("store_insert_rows_per_s {:.0f} rows/s\n", static_cast<double>(options.metrics) / fill_ms * 1000.0);
    fmt::print("store_insert_tick_us {:.2f} us\n", fill_ms * 1000.0 / static_cast<double>(ticks));

    const std::chrono::seconds action_spacing = std::max(1s, std::chrono::seconds(ticks / options.actions));
    start = Clock::now();
    for (std::int64_t i = 0; i < options.actions; ++i) store->add_action(action_row(i, action_spacing));
    fmt::print("store_action_insert_rows_per_s {:.0f} rows/s\n",
               static_cast<double>(options.actions) / ms_since(start) * 1000.0);

    fmt::print(stderr, "heal-bench: timing queries\n");
    const Latency summary = time_query(20, [&] {
        if (store->summary().total_actions != options.actions) throw std::runtime_error("summary miscounted actions");
    });
    fmt::print("summary_query_ms {:.3f} ms\n", summary.median_ms);
    fmt::print("summary_query_p95_ms {:.3f} ms\n", summary.p95_ms);
    const Latency metrics50 = time_query(200, [&] {
        check_rows(store->recent_metrics(50).size(), std::min<std::int64_t>(50, options.metrics), "recent_metrics");
    });
    fmt::print("metrics50_query_ms {:.3f} ms\n", metrics50.median_ms);
    const Latency actions50 = time_query(200, [&] {
        check_rows(store->recent_actions(50).size(), std::min<std::int64_t>(50, options.actions), "recent_actions");
    });
    fmt::print("actions50_query_ms {:.3f} ms\n", actions50.median_ms);

    store.reset();
    fmt::print("db_size_mib {:.1f} MiB\n", size_mib(database));

    // Past the cap by a tenth, as if retention had not run for a while, then
    // the daemon's retention pass with its default limits; twice. SQLite keeps
    // the pages the first pass frees and the second round reuses them, so the
    // file stops growing at the cap plus the overshoot. These rows are not
    // timed, so they go in a thousand ticks a transaction.
    const std::int64_t overshoot = std::max<std::int64_t>(1, options.metrics / 10);
    std::int64_t stored = options.metrics;
    for (const auto& [pass_figure, size_figure] : kRetentionRounds) {
        fmt::print(stderr, "heal-bench: storing {} more metric rows, then applying the default retention\n", overshoot);
        store.emplace(database);
        store_rows(*store, stored, overshoot, 1000 * kRowsPerTick);
        stored += overshoot;
        const TimePoint now = tick_time(tick_of(stored - 1) + 1);
        start = Clock::now();
        const std::int64_t removed = store->apply_retention(Config::default_retention(), now);
        fmt::print("{} {:.1f} ms\n", pass_figure, ms_since(start));
        fmt::print(stderr, "heal-bench: retention removed {} rows\n", removed);
        store.reset();
        fmt::print("{} {:.1f} MiB\n", size_figure, size_mib(database));
    }
    return 0;
}

}  // namespace heal::bench
