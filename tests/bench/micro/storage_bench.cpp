// Cost of what the daemon does with its history: one row inserted on its own
// (autocommit, WAL, synchronous=NORMAL; a tick's rows go in one transaction,
// see BM_Pipeline), the D-Bus history and summary queries, and a retention
// pass that has nothing to remove.
#include <benchmark/benchmark.h>

#include "bench_database.hpp"
#include "storage/store.hpp"

namespace {

using heal::bench::BenchDatabase;
using namespace std::chrono_literals;

const heal::TimePoint kStart = heal::TimePoint(1'717'243'200s);

heal::MetricRecord metric(int i) {
    heal::MetricRecord record;
    record.timestamp = kStart + std::chrono::seconds(5 * i);
    record.cpu = i % 100;
    record.memory = 40.0;
    record.healthy = i % 50 != 0;
    return record;
}

heal::ActionRecord action(int i) {
    heal::ActionRecord record;
    record.timestamp = kStart + std::chrono::seconds(60 * i);
    record.action = heal::kAllActions[static_cast<std::size_t>(i) % heal::kAllActions.size()];
    record.recovered = i % 4 != 0;
    if (record.recovered) record.recovery_time = 0.5 + i % 5;
    record.reward = heal::recovery_reward(record.recovered, record.recovery_time.value_or(0.0));
    record.state = {0.9f, 0.4f, 0.1f, 1.0f, 0.0f, 1.0f, 0.0f};
    return record;
}

void BM_AddMetric(benchmark::State& state) {
    BenchDatabase db;
    int i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(db.store().add_metric(metric(i++)));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddMetric);

void BM_AddAction(benchmark::State& state) {
    BenchDatabase db;
    int i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(db.store().add_action(action(i++)));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddAction);

// Rows go in through the public API, outside the timed loops.
void fill(heal::Store& store, int metrics, int actions) {
    for (int i = 0; i < metrics; ++i) store.add_metric(metric(i));
    for (int i = 0; i < actions; ++i) store.add_action(action(i));
}

void BM_RecentMetrics50(benchmark::State& state) {
    BenchDatabase db;
    fill(db.store(), static_cast<int>(state.range(0)), 0);
    for (auto _ : state) benchmark::DoNotOptimize(db.store().recent_metrics(50));
    state.SetItemsProcessed(state.iterations() * 50);
}
BENCHMARK(BM_RecentMetrics50)->Arg(20'000);

void BM_Summary(benchmark::State& state) {
    BenchDatabase db;
    fill(db.store(), 0, static_cast<int>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(db.store().summary());
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Summary)->Arg(5'000);

void BM_RetentionNothingToRemove(benchmark::State& state) {
    BenchDatabase db;
    const int rows = static_cast<int>(state.range(0));
    fill(db.store(), rows, 0);
    const heal::Retention retention{.max_age = 24h * 365, .max_rows = rows};
    const heal::TimePoint now = kStart + std::chrono::seconds(5 * rows);
    for (auto _ : state) benchmark::DoNotOptimize(db.store().apply_retention(retention, now));
    state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_RetentionNothingToRemove)->Arg(20'000);

}  // namespace
