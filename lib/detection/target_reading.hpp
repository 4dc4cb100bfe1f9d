#pragma once
// One sampling tick reduced to what detection judges: per target (the whole
// machine or one watched unit) whether it runs, its CPU and memory in %, and
// what the signals need besides: limits, runnable threads, pressure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sampling/sample.hpp"

namespace heal {

// One health probe of a unit, as the tick found it.
struct ProbeReading {
    std::string name;        // "http probe http://127.0.0.1:8080/healthz of web.service"
    bool failing = false;    // failureThreshold failures in a row, not yet healthy again
    double latency_ms = 0.0;  // of its latest attempt
    double timeout_ms = 0.0;
    std::string sentence;    // what its latest attempts say, for an operator

    bool operator==(const ProbeReading&) const = default;
};

struct TargetReading {
    std::string unit;               // "" for the whole machine
    bool present = true;            // the unit is running (always true for the machine)
    double cpu = 0.0;               // machine: % of all CPUs; unit: % of one CPU
    std::optional<double> memory;   // % of the unit's MemoryMax, else of the machine's RAM
    bool stopped = false;           // not running because it was stopped or exited cleanly: not a failure
    std::vector<ProbeReading> probes{};  // the unit's health probes (units.d [Probe])
    // Units only; the limits are absent when unset.
    std::optional<std::uint64_t> memory_max_bytes{};   // what `memory` is a % of, when set
    std::optional<std::uint64_t> memory_high_bytes{};
    std::optional<double> cpu_limit_percent{};         // CPUQuota= as % of one CPU
    unsigned runnable_threads = 0;
    // PSI of the unit's cgroup, or of the machine.
    std::optional<Pressure> cpu_pressure{};
    std::optional<Pressure> memory_pressure{};
    std::optional<Pressure> io_pressure{};
    // systemd's NRestarts: restarts its Restart= made, when known.
    std::optional<std::uint64_t> automatic_restarts{};

    bool operator==(const TargetReading&) const = default;
};

// The machine first, then the units in the sample's order. A unit's memory is
// absent when it has no MemoryMax and `memory_total_bytes` is 0 (unknown).
std::vector<TargetReading> readings_from(const Sample& sample, std::uint64_t memory_total_bytes);

}  // namespace heal
