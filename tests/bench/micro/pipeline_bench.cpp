// Cost of one daemon tick's data path, per tick: sample a machine watching
// three units (/proc and a cgroup v2 tree: the sampling unit tests' "v2"
// fixture), reduce the sample to readings, judge them with the Monitor, and
// store the tick's rows in one transaction.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench_database.hpp"
#include "config/config.hpp"
#include "detection/monitor.hpp"
#include "detection/target_reading.hpp"
#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"
#include "sampling/proc_sampler.hpp"
#include "sampling/temp_tree.hpp"

namespace {

using namespace std::chrono_literals;

// The fixture's units.
const std::vector<heal::UnitSpec> kUnits{
    {"nginx.service", {}}, {"worker.service", {}}, {"job.scope", "/batch.slice/job.scope"}};

// The fixture's CPU counters, moved on by one second of a busy machine per
// tick, so every tick's CPU percentages come from real deltas that vary a little.
class CpuCounters {
public:
    explicit CpuCounters(const heal::test::TempTree& root) : root_(root) {}

    void advance() {
        const std::uint64_t jitter = ++tick_ * 37 % 11;
        // Two CPUs: 200 USER_HZ ticks a second, 40 to 50 of them busy.
        user_ += 30 + jitter;
        system_ += 10;
        idle_ += 160 - jitter;
        root_.write("proc/stat", fmt::format("cpu  {} 0 {} {} 0 0 0 0 0 0\n", user_, system_, idle_));
        for (std::size_t unit = 0; unit < kUnits.size(); ++unit) {
            unit_usage_usec_[unit] += (unit + 1) * 50'000 + jitter * 1'000;  // 5 % to 16 % of a CPU
            root_.write(fmt::format("sys/fs/cgroup/{}/cpu.stat", heal::relative_cgroup_path(kUnits[unit])),
                        fmt::format("usage_usec {}\n", unit_usage_usec_[unit]));
        }
    }

private:
    const heal::test::TempTree& root_;
    std::uint64_t tick_ = 0;
    std::uint64_t user_ = 0, system_ = 0, idle_ = 0;
    std::vector<std::uint64_t> unit_usage_usec_ = std::vector<std::uint64_t>(kUnits.size());
};

// MemTotal, which units without a MemoryMax are judged against, read as the daemon reads it.
std::uint64_t memory_total_bytes(const heal::test::TempTree& root) {
    std::string meminfo;
    const std::string path = (root / "proc/meminfo").string();
    if (heal::read_file(path, meminfo) != 0) throw std::runtime_error("cannot read " + path);
    return heal::parse_meminfo(meminfo, path).total_kb * 1024;
}

void BM_Pipeline(benchmark::State& state) {
    const heal::test::TempTree root("v2");
    std::chrono::steady_clock::time_point now{};
    heal::ProcSampler sampler(kUnits, root.root(), [&now] { return now; });
    std::vector<std::string> unit_names;
    for (const heal::UnitSpec& unit : kUnits) unit_names.push_back(unit.unit);
    const std::uint64_t memory_total = memory_total_bytes(root);
    // The default signals, as healerd runs them.
    heal::Monitor monitor(
        unit_names, [](const std::string&) { return heal::DetectionConfig{}; }, heal::MachineShape{4, memory_total});
    heal::bench::BenchDatabase database;

    CpuCounters counters(root);
    for (auto _ : state) {
        state.PauseTiming();
        counters.advance();
        now += 1s;
        state.ResumeTiming();

        const heal::Sample sample = sampler.sample();
        const std::vector<heal::TargetReading> readings = heal::readings_from(sample, memory_total);
        benchmark::DoNotOptimize(monitor.observe(readings, now));
        database.store().add_metrics(heal::metric_records(readings, monitor, sample.time));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel("items = ticks of 1 machine + 3 units");
}
BENCHMARK(BM_Pipeline);

}  // namespace
