// Cost of judging one sample, which the daemon pays per metric per tick, and
// of replaying a CSV history.
#include <benchmark/benchmark.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "detection/adaptive_detector.hpp"
#include "detection/replay.hpp"

namespace {

std::vector<double> noise(std::size_t count) {
    std::mt19937 rng(42);
    std::normal_distribution<double> dist(30.0, 3.0);
    std::vector<double> values(count);
    for (double& v : values) v = dist(rng);
    return values;
}

heal::AdaptiveDetectorConfig config_with_window(std::size_t window) {
    heal::AdaptiveDetectorConfig config;
    config.window = window;
    config.floor = 0.0;
    return config;
}

// Steady state: the window is full, every observe() evicts one value.
void BM_Observe(benchmark::State& state) {
    const auto window = static_cast<std::size_t>(state.range(0));
    heal::AdaptiveDetector detector("cpu", config_with_window(window));
    const std::vector<double> values = noise(4096);
    for (std::size_t i = 0; i < 2 * window; ++i) detector.observe(values[i % values.size()]);
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(detector.observe(values[i++ % values.size()]));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Observe)->Arg(60)->Arg(600)->Arg(6000);

void BM_Peek(benchmark::State& state) {
    heal::AdaptiveDetector detector("cpu", config_with_window(60));
    for (double v : noise(120)) detector.observe(v);
    for (auto _ : state) benchmark::DoNotOptimize(detector.peek(97.0));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Peek);

void BM_ReplayCsv(benchmark::State& state) {
    const std::vector<double> values = noise(static_cast<std::size_t>(state.range(0)));
    std::string csv = "timestamp,value\n";
    for (std::size_t i = 0; i < values.size(); ++i) csv += std::to_string(i) + "," + std::to_string(values[i]) + "\n";
    const heal::AdaptiveDetectorConfig config = config_with_window(60);
    for (auto _ : state) {
        std::istringstream in(csv);
        benchmark::DoNotOptimize(heal::replay_csv(in, config));
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(csv.size()));
}
BENCHMARK(BM_ReplayCsv)->Arg(10'000);

}  // namespace
