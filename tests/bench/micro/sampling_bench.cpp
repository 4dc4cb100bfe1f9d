// Cost of one sampling tick, which the daemon pays every second: the parsers
// alone, the whole machine, and watched units through each memory source.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "sampling/proc_parsers.hpp"
#include "sampling/proc_sampler.hpp"
#include "sampling/system_sampler.hpp"
#include "support/temp_dir.hpp"

namespace {

constexpr const char* kProcStat =
    "cpu  2705 0 2762 55544 392 0 105 0 0 0\n"
    "cpu0 1008 0 1189 28483 12 0 49 0 0 0\n"
    "cpu1 1697 0 1573 27061 379 0 56 0 0 0\n"
    "intr 1234567 9 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n"
    "ctxt 987654\nbtime 1700000000\nprocesses 4321\nprocs_running 2\nprocs_blocked 0\n";

constexpr const char* kMeminfo =
    "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n"
    "MemAvailable:    6000000 kB\nBuffers:          200000 kB\nCached:          3000000 kB\n";

void BM_ParseProcStat(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(heal::parse_proc_stat(kProcStat, "stat"));
}
BENCHMARK(BM_ParseProcStat);

void BM_ParseMeminfo(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(heal::parse_meminfo(kMeminfo, "meminfo"));
}
BENCHMARK(BM_ParseMeminfo);

void BM_ParsePressure(benchmark::State& state) {
    const char* psi =
        "some avg10=22.90 avg60=5.72 avg300=1.64 total=7557152\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    for (auto _ : state) benchmark::DoNotOptimize(heal::parse_pressure(psi));
}
BENCHMARK(BM_ParsePressure);

// The real /proc: stat, meminfo and three PSI files.
void BM_SystemSampleRealRoot(benchmark::State& state) {
    heal::SystemSampler sampler;
    for (auto _ : state) benchmark::DoNotOptimize(sampler.sample());
}
BENCHMARK(BM_SystemSampleRealRoot);

// A full tick on the real machine watching the root cgroup and a stopped unit.
void BM_ProcSampleRealRoot(benchmark::State& state) {
    heal::ProcSampler sampler(
        std::vector<heal::UnitSpec>{{"-.slice", "/"}, {"heal-bench-absent.service", {}}});
    for (auto _ : state) benchmark::DoNotOptimize(sampler.sample());
}
BENCHMARK(BM_ProcSampleRealRoot);

// The container path: a v2 cgroup without memory.current whose cgroup.procs
// lists `state.range(0)` real processes (this one, repeated), so memory is the
// sum of their /proc/PID/status VmRSS.
void BM_UnitVmRssFallback(benchmark::State& state) {
    const heal::test::TempDir root;
    const std::string unit_dir = "sys/fs/cgroup/unified/system.slice/bench.service/";
    root.write("sys/fs/cgroup/unified/cgroup.controllers", "");
    root.write(unit_dir + "cpu.stat", "usage_usec 1000\n");
    std::string procs;
    for (int i = 0; i < state.range(0); ++i) procs += std::to_string(::getpid()) + '\n';
    root.write(unit_dir + "cgroup.procs", procs);
    std::filesystem::create_directory_symlink("/proc", root / "proc");

    const heal::CgroupLayout layout = heal::CgroupLayout::detect(root.root());
    heal::UnitSampler sampler({"bench.service", {}}, layout, root.root());
    auto now = std::chrono::steady_clock::now();
    for (auto _ : state) {
        now += std::chrono::seconds{1};
        benchmark::DoNotOptimize(sampler.sample(now));
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UnitVmRssFallback)->Arg(1)->Arg(16)->Arg(128);

}  // namespace
