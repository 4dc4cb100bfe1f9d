#include "bench_record.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"
#include "sampling/proc_sampler.hpp"
#include "sampling/unit_sampler.hpp"
#include "trace_corpus.hpp"

namespace heal::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Sanity bounds: a week of recording, an hour between ticks.
constexpr long long kMaxSeconds = 7LL * 24 * 3600;
constexpr long long kMaxIntervalMs = 3'600'000;

// Thrown for a bad argument: bench_record prints it and exits 2.
struct ArgumentError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A missing value is an empty CSV field.
template <typename T>
std::string field(const std::optional<T>& value) {
    return value ? fmt::format("{}", *value) : std::string{};
}
std::string field(const std::optional<double>& value) {
    return value ? fmt::format("{:.2f}", *value) : std::string{};
}
std::optional<double> some_avg10(const std::optional<Pressure>& pressure) {
    return pressure ? std::optional<double>(pressure->avg10) : std::nullopt;
}
std::optional<double> full_avg10(const std::optional<Pressure>& pressure) {
    return pressure ? pressure->full_avg10 : std::nullopt;
}

// DIR/NAME's first line, trimmed; "" when absent. The scenario script
// replaces these files atomically (rename), so a read never sees half a write.
// A comma or quote would break the CSV, so it becomes '_'.
std::string state_file(const std::string& dir, const std::string& name) {
    if (dir.empty()) return {};
    std::string text;
    if (read_file(dir + "/" + name, text) != 0) return {};
    text = text.substr(0, text.find('\n'));
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    text = text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
    std::replace_if(text.begin(), text.end(), [](char c) { return c == ',' || c == '"'; }, '_');
    return text;
}

std::uint64_t machine_memory_bytes() {
    std::string text;
    if (const int error = read_file("/proc/meminfo", text); error != 0) {
        throw SampleError(fmt::format("cannot read /proc/meminfo: {}", std::strerror(error)));
    }
    return parse_meminfo(text, "/proc/meminfo").total_kb * 1024;
}

unsigned cpu_count() {
    if (const unsigned n = std::thread::hardware_concurrency(); n > 0) return n;
    return static_cast<unsigned>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

std::vector<UnitSpec> unit_specs(const RecordOptions& options) {
    if (options.units.empty()) throw ArgumentError("at least one --unit is needed");
    std::set<std::string> seen;
    std::vector<UnitSpec> specs;
    for (const auto& unit : options.units) {
        // A unit name has a type suffix, so no unit's state file can be machine.label.
        if (unit.find('.') == std::string::npos) {
            throw ArgumentError(fmt::format("--unit {} has no type suffix such as .service", unit));
        }
        if (!seen.insert(unit).second) throw ArgumentError(fmt::format("--unit {} is given twice", unit));
        UnitSpec spec{.unit = unit, .cgroup_path = std::nullopt};
        try {
            relative_cgroup_path(spec);
        } catch (const std::invalid_argument& e) {
            throw ArgumentError(fmt::format("--unit {} is not usable: {}", unit, e.what()));
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

void check_arguments(const RecordOptions& options) {
    if (options.seconds < 1 || options.seconds > kMaxSeconds) {
        throw ArgumentError(fmt::format("--seconds {} is not between 1 and {}", options.seconds, kMaxSeconds));
    }
    if (options.interval_ms < 1 || options.interval_ms > kMaxIntervalMs) {
        throw ArgumentError(
            fmt::format("--interval-ms {} is not between 1 and {}", options.interval_ms, kMaxIntervalMs));
    }
    if (options.seconds * 1000 < options.interval_ms) {
        throw ArgumentError(fmt::format("--seconds {} is shorter than one --interval-ms {}", options.seconds,
                                        options.interval_ms));
    }
    if (options.out.empty()) throw ArgumentError("--out is needed");
    if (!options.state_dir.empty() && !is_directory(options.state_dir)) {
        throw ArgumentError(fmt::format("--state-dir {} is not a directory", options.state_dir));
    }
}

class CsvWriter {
public:
    explicit CsvWriter(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {
        if (file_ == nullptr) {
            throw ArgumentError(fmt::format("cannot open --out {} for writing: {}", path, std::strerror(errno)));
        }
    }
    ~CsvWriter() { std::fclose(file_); }
    CsvWriter(const CsvWriter&) = delete;
    CsvWriter& operator=(const CsvWriter&) = delete;

    void write(std::string_view text) { fmt::print(file_, "{}", text); }
    // Each tick is flushed, so a recording cut short keeps every whole tick.
    void flush(const std::string& path) {
        if (std::fflush(file_) != 0 || std::ferror(file_)) {
            throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
        }
    }

private:
    std::FILE* file_;
};

}  // namespace

CLI::App* add_record_command(CLI::App& app, RecordOptions& options) {
    CLI::App* command =
        app.add_subcommand("record", "sample the machine and units every interval into a CSV trace");
    command->add_option("--unit", options.units, "a system service to record (repeat for more)");
    command->add_option("--seconds", options.seconds, "how long to record");
    command->add_option("--out", options.out, "the CSV file to write");
    command->add_option("--state-dir", options.state_dir,
                        "where UNIT.probe, UNIT.label and machine.label are read each tick");
    command->add_option("--interval-ms", options.interval_ms, "time between ticks")->capture_default_str();
    return command;
}

int bench_record(const RecordOptions& options) {
    std::vector<UnitSpec> specs;
    std::optional<CsvWriter> csv;
    try {
        specs = unit_specs(options);
        check_arguments(options);
        csv.emplace(options.out);
    } catch (const ArgumentError& e) {
        fmt::print(stderr, "heal-bench record: {}.\n", e.what());
        return 2;
    }
    const std::string cpus = fmt::format("{}", cpu_count());
    const std::uint64_t mem_total = machine_memory_bytes();
    const std::string machine_memory = fmt::format("{}", mem_total);
    ProcSampler sampler(specs);
    fmt::print(stderr, "heal-bench record: {} unit(s), {} s every {} ms into {} (cgroup layout: {})\n",
               specs.size(), options.seconds, options.interval_ms, options.out, to_string(sampler.layout().kind));

    csv->write(fmt::format("{}\n", kTraceColumns));  // heal-bench detect reads the rows by it
    // This first sample only sets the CPU baselines (CPU % is a delta), so
    // tick k at t = k intervals reports the interval ending there.
    sampler.sample();
    const auto start = Clock::now();
    const auto interval = std::chrono::milliseconds(options.interval_ms);
    const long long ticks = options.seconds * 1000 / options.interval_ms;
    for (long long tick = 1; tick <= ticks; ++tick) {
        // Absolute deadlines: a slow tick does not shift the ones after it.
        std::this_thread::sleep_until(start + tick * interval);
        const Sample sample = sampler.sample();
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        const SystemSample& m = sample.system;
        std::string rows = fmt::format(
            "{:.1f},,1,{:.2f},,{},,,,{},{},{},{},{},{},,{}\n", t, m.cpu_percent,
            static_cast<std::uint64_t>(m.memory_percent / 100.0 * static_cast<double>(mem_total)),
            field(some_avg10(m.cpu_pressure)), field(some_avg10(m.memory_pressure)),
            field(full_avg10(m.memory_pressure)), field(some_avg10(m.io_pressure)), cpus, machine_memory,
            state_file(options.state_dir, "machine.label"));
        for (const UnitSample& u : sample.units) {
            rows += fmt::format("{:.1f},{},{},{:.2f},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", t, u.unit,
                                u.present ? 1 : 0, u.cpu_percent, u.runnable_threads, u.memory_bytes,
                                field(u.memory_max_bytes), field(u.memory_high_bytes), field(u.cpu_limit_percent),
                                field(some_avg10(u.cpu_pressure)), field(some_avg10(u.memory_pressure)),
                                field(full_avg10(u.memory_pressure)), field(some_avg10(u.io_pressure)), cpus,
                                machine_memory, state_file(options.state_dir, u.unit + ".probe"),
                                state_file(options.state_dir, u.unit + ".label"));
        }
        csv->write(rows);
        csv->flush(options.out);
    }
    return 0;
}

}  // namespace heal::bench
