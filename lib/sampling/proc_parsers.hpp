#pragma once
// Parsers for the kernel's text files (/proc and cgroupfs). They do no I/O so
// tests feed them strings. Files the daemon cannot run without throw
// SampleError naming the file; optional ones return nullopt when malformed.
#include <cstdint>
#include <optional>
#include <string_view>

#include "sampling/sample.hpp"

namespace heal {

// Aggregate jiffies from the first "cpu" line of /proc/stat.
struct CpuTimes {
    std::uint64_t total = 0;  // user..steal; guest time is already inside user and nice
    std::uint64_t idle = 0;   // idle + iowait
};

// Throws SampleError naming `file` when there is no well-formed "cpu" line.
CpuTimes parse_proc_stat(std::string_view text, std::string_view file);

// Busy share of the interval between two readings, in [0, 100]; 0 when no
// time passed or the counters went backwards.
double cpu_percent_between(const CpuTimes& before, const CpuTimes& after);

struct MemInfo {
    std::uint64_t total_kb = 0;
    std::uint64_t available_kb = 0;
};

// Throws SampleError naming `file` when MemTotal or MemAvailable is missing,
// malformed, or MemTotal is 0.
MemInfo parse_meminfo(std::string_view text, std::string_view file);

// (MemTotal - MemAvailable) / MemTotal, in [0, 100].
double memory_percent(const MemInfo& info);

// A PSI file: "some avg10=1.50 avg60=... total=123", then optionally a
// "full" line of the same form. nullopt when the some line is missing or
// malformed; a missing or malformed full line only leaves full_avg10 absent.
std::optional<Pressure> parse_pressure(std::string_view text);

// usage_usec from a cgroup v2 cpu.stat.
std::optional<std::uint64_t> parse_cpu_stat_usage_usec(std::string_view text);

// The number of the line `key` of a cgroup's memory.stat ("inactive_file",
// v1 "total_inactive_file"); absent when missing or malformed.
std::optional<std::uint64_t> parse_memory_stat_field(std::string_view text, std::string_view key);

// A file holding one unsigned number (memory.current, cpuacct.usage, ...).
std::optional<std::uint64_t> parse_single_u64(std::string_view text);

// A memory limit: v2 memory.max ("max" or bytes) or v1 memory.limit_in_bytes,
// whose "unlimited" is LONG_MAX rounded down to a page.
struct MemoryLimit {
    std::optional<std::uint64_t> bytes;  // absent when unlimited
};
std::optional<MemoryLimit> parse_memory_limit(std::string_view text);

// A cgroup v2 cpu.max: "$QUOTA $PERIOD" in microseconds, QUOTA "max" when
// unlimited. The limit is the quota as % of one CPU (CPUQuota=150% reads
// "150000 100000"). nullopt when malformed or the period is 0.
struct CpuLimit {
    std::optional<double> percent;  // absent when unlimited
};
std::optional<CpuLimit> parse_cpu_max(std::string_view text);

// VmRSS of a /proc/PID/status, in bytes; nullopt for kernel threads (no VmRSS).
std::optional<std::uint64_t> parse_status_vmrss_bytes(std::string_view text);

// The state letter of a /proc/PID/stat or /proc/PID/task/TID/stat line
// ("R" running or runnable, "S" sleeping, ...): the field after the command,
// which is the text between the first '(' and the last ')' since a command
// may itself hold parentheses and spaces. nullopt when malformed.
std::optional<char> parse_stat_state(std::string_view text);

// Splits off the first line of `rest` (without its '\n').
std::string_view next_line(std::string_view& rest);

// A cgroup.procs line is a PID: decimal digits only, so it is safe to splice
// into a /proc path.
bool is_pid(std::string_view line);

}  // namespace heal
