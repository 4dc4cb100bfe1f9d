#pragma once
// What one sampling tick observes: the whole machine, and each watched unit.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace heal {

// Raised when a file the sampler cannot do without is missing or malformed;
// what() names the file and what was wrong with it.
class SampleError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A PSI file (/proc/pressure/* or a cgroup's *.pressure): its "some" line,
// and the avg10 of its "full" line where the file has one (the machine's cpu
// file has none before Linux 5.13).
struct Pressure {
    double avg10 = 0.0;       // % of the last 10 s some task was stalled
    std::uint64_t total_us = 0;
    std::optional<double> full_avg10;  // % of the last 10 s all tasks were stalled at once

    bool operator==(const Pressure&) const = default;
};

struct SystemSample {
    double cpu_percent = 0.0;     // from /proc/stat deltas; 0 on the first tick
    double memory_percent = 0.0;  // (MemTotal - MemAvailable) / MemTotal
    std::optional<Pressure> cpu_pressure;     // absent when the kernel has no PSI
    std::optional<Pressure> memory_pressure;
    std::optional<Pressure> io_pressure;
};

struct UnitSample {
    std::string unit;                 // e.g. "nginx.service"
    bool present = false;             // its cgroup exists (unit loaded and running)
    // Its cgroup's inode, 0 when absent: a new one is a new start, even one
    // that came and went between two samples.
    std::uint64_t cgroup_id = 0;
    double cpu_percent = 0.0;         // of one CPU, like top; from usage deltas
    // The working set: the cgroup's memory less its inactive page cache
    // (memory.stat inactive_file), else the VmRSS of its processes.
    std::uint64_t memory_bytes = 0;
    std::optional<std::uint64_t> memory_max_bytes;  // absent when unlimited
    // Threads of the cgroup (and its children) running or waiting for a CPU
    // at the moment of the sample: how many cores the unit could use now.
    unsigned runnable_threads = 0;
    // The rest is cgroup v2 only: absent on v1/hybrid, and for "max".
    std::optional<std::uint64_t> memory_high_bytes;  // memory.high (MemoryHigh=)
    std::optional<double> cpu_limit_percent;         // cpu.max quota/period (CPUQuota=), % of one CPU
    std::optional<Pressure> cpu_pressure;
    std::optional<Pressure> memory_pressure;
    std::optional<Pressure> io_pressure;
};

struct Sample {
    std::chrono::system_clock::time_point time;
    SystemSample system;
    std::vector<UnitSample> units;
};

// One tick of observation. Implementations keep the previous counters so
// CPU percentages come from deltas.
class Sampler {
public:
    virtual ~Sampler() = default;
    virtual Sample sample() = 0;
};

}  // namespace heal
