#pragma once
// The trace corpus format (tests/fixtures/traces/): what heal-bench record
// writes and heal-bench detect reads back, and the unit limits a corpus'
// cgroups did not report.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace heal::bench {

// The header line, without its newline; rows follow it in this column order.
inline constexpr std::string_view kTraceColumns =
    "t,unit,present,cpu_percent,runnable_threads,memory_bytes,memory_max_bytes,memory_high_bytes,"
    "cpu_limit_percent,cpu_some_avg10,memory_some_avg10,memory_full_avg10,io_some_avg10,cpus,"
    "machine_memory_bytes,probe_ok,label";

// A corpus that cannot be read or parsed; what() names the line.
struct TraceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One target at one tick; absent fields were empty in the CSV.
struct TraceRow {
    double t = 0.0;
    std::string unit;  // "" for the machine
    bool present = true;
    double cpu_percent = 0.0;
    unsigned runnable_threads = 0;
    std::uint64_t memory_bytes = 0;
    std::optional<std::uint64_t> memory_max_bytes;
    std::optional<std::uint64_t> memory_high_bytes;
    std::optional<double> cpu_limit_percent;
    std::optional<double> cpu_some_avg10;
    std::optional<double> memory_some_avg10;
    std::optional<double> memory_full_avg10;
    std::optional<double> io_some_avg10;
    unsigned cpus = 1;
    std::uint64_t machine_memory_bytes = 0;
    std::optional<bool> probe_ok;
    std::string label;  // the injected fault, "" when healthy
};

// One tick: the rows sharing a t, in file order (the machine's first).
struct TraceTick {
    double t = 0.0;
    std::vector<TraceRow> rows;
};

// Parses a whole corpus: the header must be kTraceColumns. Throws TraceError.
std::vector<TraceTick> parse_trace(std::string_view text);

// The corpus' units, in order of first appearance.
std::vector<std::string> units_of(const std::vector<TraceTick>& ticks);
// Those with a probe_ok value on some row.
std::vector<std::string> probed_units_of(const std::vector<TraceTick>& ticks);

// A file's text; FILE.gz is read through `gzip -dc`. Throws TraceError.
std::string read_corpus_text(const std::string& path);

// MemoryMax= by unit; an absent value (MemoryMax=infinity) removes a limit.
using MemoryLimits = std::map<std::string, std::optional<std::uint64_t>, std::less<>>;

// "heal-gc.service:MemoryMax=300M" (systemd's size syntax) into `limits`.
// Throws std::invalid_argument saying what is wrong.
void add_limit(MemoryLimits& limits, std::string_view spec);
// A limits file: one spec a line; blank lines and '#' comments skipped.
// Throws TraceError naming the line.
MemoryLimits read_limits_file(const std::string& path);
// Sets each limited unit's memory_max_bytes on every row of it.
void apply_limits(std::vector<TraceTick>& ticks, const MemoryLimits& limits);

}  // namespace heal::bench
