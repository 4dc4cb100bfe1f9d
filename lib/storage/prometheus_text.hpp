#pragma once
// healerd's metrics in Prometheus' text exposition format 0.0.4, for
// node_exporter's textfile collector: a pure rendering of a snapshot, and the
// atomic file write the collector needs (it must never read half a file).
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.hpp"

namespace heal {

struct PrometheusSnapshot {
    struct Probe {
        std::string name;  // as healctl detect shows it
        bool success = true;  // not failing
        double latency_seconds = 0.0;  // of its latest attempt
    };
    // PSI "some" avg10 as a fraction; absent where the kernel has none.
    struct Pressure {
        std::optional<double> cpu;
        std::optional<double> memory;
        std::optional<double> io;
    };
    struct Target {
        std::string unit;  // "" for the machine: the series carry unit=""
        double cpu_ratio = 0.0;  // machine: of all CPUs; unit: of one CPU
        std::optional<double> memory_ratio;
        Pressure pressure;
        bool in_failure = false;
        bool incident_open = false;
        std::vector<Probe> probes;
    };
    std::vector<Target> targets;  // in the order they are written
    std::vector<ActionCount> actions;
    std::vector<IncidentCount> incidents;
    std::vector<double> recovery_seconds;  // each recovered attempt's recovery time
};

// The upper bounds of healerd_recovery_seconds' buckets (+Inf is implied).
inline constexpr std::array<double, 8> kRecoveryBuckets{1, 2, 5, 10, 30, 60, 120, 300};

// A label value in the exposition format: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

// The whole file: HELP and TYPE before each family's samples; a family
// without samples is left out, except the histogram, always written.
std::string render_prometheus(const PrometheusSnapshot& snapshot);

// Writes `text` to `path` atomically: PATH.tmp in the same directory, fsync,
// rename over PATH (mode 0644: node_exporter runs as another user). Throws
// std::system_error naming the file; the temporary is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace heal
