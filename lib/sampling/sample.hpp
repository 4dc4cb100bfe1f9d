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

// The "some" line of a PSI file (/proc/pressure/* or a cgroup's *.pressure).
struct Pressure {
    double avg10 = 0.0;       // % of the last 10 s some task was stalled
    std::uint64_t total_us = 0;
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
    double cpu_percent = 0.0;         // of one CPU, like top; from usage deltas
    std::uint64_t memory_bytes = 0;
    std::optional<std::uint64_t> memory_max_bytes;  // absent when unlimited
    std::optional<Pressure> memory_pressure;        // cgroup v2 only
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
