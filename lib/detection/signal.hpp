#pragma once
// The signal detectors of issue 11: a failure is evidence sustained in time,
// like a Prometheus alert's `for:`, not statistical novelty counted in
// samples. Each detector watches one target (the machine or one unit) and is
// fed that target's SignalInput at every tick; its SignalVerdict says whether
// the condition holds now (firing) and whether it has held long enough to be
// a failure.
//
// The original design's Detector/AdaptiveDetector (verdict.hpp) stays as it
// is, judging values counted in samples.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sampling/sample.hpp"

namespace heal {

using SteadyTime = std::chrono::steady_clock::time_point;

// What a signal detector sees of one target at one tick.
struct SignalInput {
    std::string unit;    // "" for the whole machine
    SteadyTime time;     // when the reading was taken (steady clock)
    bool present = true;   // running (always true for the machine)
    // Not running on purpose (stopped, exited cleanly), as the unit probe
    // knows: the monitor's business. Signals judge only what is present.
    bool stopped = false;
    double cpu_percent = 0.0;  // unit: % of one CPU (two full cores read 200); machine: % of all CPUs
    std::optional<double> cpu_limit_percent;  // CPUQuota= as % of one CPU; absent = unlimited
    unsigned cpus = 1;                        // CPUs of the machine
    unsigned runnable_threads = 0;            // unit: threads running or waiting for a CPU now
    std::optional<std::uint64_t> memory_bytes;          // absent when unknown
    std::optional<std::uint64_t> memory_max_bytes;      // MemoryMax=; absent = none
    std::optional<std::uint64_t> memory_high_bytes;     // MemoryHigh=; absent = none
    std::optional<std::uint64_t> machine_memory_bytes;  // the machine's RAM, when known
    // PSI of the unit's cgroup (of the machine for the machine), where known.
    std::optional<Pressure> cpu_pressure;
    std::optional<Pressure> memory_pressure;
    std::optional<Pressure> io_pressure;
    // Unit: how many times systemd's Restart= has restarted it (NRestarts),
    // known whether it runs or not; absent when unknown.
    std::optional<std::uint64_t> automatic_restarts;
};

// "web.service", or "the machine".
std::string target_name(const SignalInput& input);

// The limit a unit's memory runs into, with the setting it comes from.
struct NamedMemoryLimit {
    std::uint64_t bytes = 0;
    std::string_view setting;  // "MemoryMax", "MemoryHigh" or "RAM"
};
// MemoryMax, else MemoryHigh (where the kernel starts throttling and
// reclaiming hard), else the machine's RAM; absent when none is known.
std::optional<NamedMemoryLimit> memory_limit(const SignalInput& input);

// Memory as % of memory_limit(); absent when either is unknown.
std::optional<double> memory_percent(const SignalInput& input);

// The figure a statistical signal judges.
enum class SignalMetric {
    cpu,     // cpu_percent
    memory,  // memory_percent()
};
std::string_view to_string(SignalMetric metric);  // "cpu", "memory"
// Absent when the target is not running or the figure is unknown.
std::optional<double> metric_value(const SignalInput& input, SignalMetric metric);

// A unit's sample as its signals see it; the machine's CPU count and RAM
// (absent when unknown) come from the caller. `stopped` is left false: the
// sample cannot tell a stop on purpose from a crash, the unit probe can.
SignalInput signal_input(const UnitSample& unit, SteadyTime time, unsigned cpus,
                         std::optional<std::uint64_t> machine_memory_bytes);
// The whole machine: memory in bytes is its used share of the RAM, so it is
// absent when the RAM is unknown.
SignalInput signal_input(const SystemSample& machine, SteadyTime time, unsigned cpus,
                         std::optional<std::uint64_t> machine_memory_bytes);

// A signal detector's judgement of one tick.
struct SignalVerdict {
    std::string signal;      // "cpu_saturation", "memory_pressure", "memory_leak", "anomaly", ...
    bool firing = false;     // the condition holds now
    bool failure = false;    // it has held for the signal's ForSec=
    double held_sec = 0.0;   // how long it has held without a break; 0 when not firing
    double value = 0.0;      // what was compared (%, or bytes for memory_leak)
    double threshold = 0.0;  // what it was compared with, in the same unit
    std::optional<double> exhaustion_sec;  // predicted seconds until the memory limit (memory_leak)
    // The signal alone is not evidence of failure: act on `failure` only
    // while another signal of the same target is firing (anomaly).
    bool needs_corroboration = false;
    std::string reason;  // a sentence for an operator
};

class SignalDetector {
public:
    virtual ~SignalDetector() = default;
    virtual std::string_view name() const = 0;
    virtual SignalVerdict observe(const SignalInput& input) = 0;
    // A copy with the same history, to judge a hypothetical reading without
    // touching this one's.
    virtual std::unique_ptr<SignalDetector> clone() const = 0;
};

}  // namespace heal
