#include "trace_corpus.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/config.hpp"

namespace heal::bench {
namespace {

std::vector<std::string_view> split(std::string_view line, char separator) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto at = line.find(separator);
        fields.push_back(line.substr(0, at));
        if (at == std::string_view::npos) return fields;
        line.remove_prefix(at + 1);
    }
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// Parses one field of line `line`, naming the column when it is malformed.
class FieldReader {
public:
    FieldReader(const std::vector<std::string_view>& fields, std::size_t line) : fields_(fields), line_(line) {}

    template <typename T>
    std::optional<T> optional(std::size_t column) const {
        const std::string_view text = fields_[column];
        if (text.empty()) return std::nullopt;
        T value{};
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc{} || end != text.data() + text.size()) fail(column, "is not a number");
        return value;
    }
    template <typename T>
    T required(std::size_t column) const {
        const std::optional<T> value = optional<T>(column);
        if (!value) fail(column, "is empty");
        return *value;
    }
    bool flag(std::size_t column) const {
        const auto value = required<int>(column);
        if (value != 0 && value != 1) fail(column, "is neither 0 nor 1");
        return value == 1;
    }

    [[noreturn]] void fail(std::size_t column, std::string_view what) const {
        const auto names = split(kTraceColumns, ',');
        throw TraceError(fmt::format("line {}: {} '{}' {}", line_, names[column],
                                     fields_[column].substr(0, 32), what));
    }

private:
    const std::vector<std::string_view>& fields_;
    std::size_t line_;
};

TraceRow parse_row(std::string_view line, std::size_t number) {
    static const std::size_t columns = split(kTraceColumns, ',').size();
    const std::vector<std::string_view> fields = split(line, ',');
    if (fields.size() != columns)
        throw TraceError(fmt::format("line {}: {} fields, expected {}", number, fields.size(), columns));
    const FieldReader read(fields, number);
    TraceRow row;
    row.t = read.required<double>(0);
    row.unit = std::string(fields[1]);
    row.present = read.flag(2);
    row.cpu_percent = read.required<double>(3);
    row.runnable_threads = read.optional<unsigned>(4).value_or(0);  // empty for the machine
    row.memory_bytes = read.required<std::uint64_t>(5);
    row.memory_max_bytes = read.optional<std::uint64_t>(6);
    row.memory_high_bytes = read.optional<std::uint64_t>(7);
    row.cpu_limit_percent = read.optional<double>(8);
    row.cpu_some_avg10 = read.optional<double>(9);
    row.memory_some_avg10 = read.optional<double>(10);
    row.memory_full_avg10 = read.optional<double>(11);
    row.io_some_avg10 = read.optional<double>(12);
    row.cpus = read.required<unsigned>(13);
    row.machine_memory_bytes = read.required<std::uint64_t>(14);
    if (!fields[15].empty()) row.probe_ok = read.flag(15);
    row.label = std::string(fields[16]);
    if (row.unit.empty() && !row.label.empty()) read.fail(16, "labels the machine, which is never labelled");
    return row;
}

// The shell quoting of `text` for popen.
std::string shell_quote(std::string_view text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

}  // namespace

std::vector<TraceTick> parse_trace(std::string_view text) {
    std::vector<TraceTick> ticks;
    std::size_t number = 0;
    bool header = true;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++number;
        if (line.empty()) continue;
        if (header) {
            if (line != kTraceColumns) throw TraceError(fmt::format("line {}: not the corpus header", number));
            header = false;
            continue;
        }
        TraceRow row = parse_row(line, number);
        if (!ticks.empty() && row.t < ticks.back().t)
            throw TraceError(fmt::format("line {}: t {} goes back in time", number, row.t));
        if (ticks.empty() || row.t != ticks.back().t) ticks.push_back(TraceTick{row.t, {}});
        ticks.back().rows.push_back(std::move(row));
    }
    if (header) throw TraceError("no corpus header");
    return ticks;
}

std::vector<std::string> units_of(const std::vector<TraceTick>& ticks) {
    std::vector<std::string> units;
    for (const TraceTick& tick : ticks)
        for (const TraceRow& row : tick.rows)
            if (!row.unit.empty() && std::find(units.begin(), units.end(), row.unit) == units.end())
                units.push_back(row.unit);
    return units;
}

std::vector<std::string> probed_units_of(const std::vector<TraceTick>& ticks) {
    std::vector<std::string> probed;
    for (const std::string& unit : units_of(ticks)) {
        const bool has_probe = std::any_of(ticks.begin(), ticks.end(), [&](const TraceTick& tick) {
            return std::any_of(tick.rows.begin(), tick.rows.end(),
                               [&](const TraceRow& row) { return row.unit == unit && row.probe_ok; });
        });
        if (has_probe) probed.push_back(unit);
    }
    return probed;
}

std::string read_corpus_text(const std::string& path) {
    const bool gz = path.size() > 3 && path.ends_with(".gz");
    if (!gz) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw TraceError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }
    // gzip says itself why it could not read the file (on stderr).
    std::FILE* pipe = ::popen(fmt::format("gzip -dc -- {}", shell_quote(path)).c_str(), "r");
    if (pipe == nullptr) throw TraceError(fmt::format("cannot run gzip -dc: {}", std::strerror(errno)));
    std::string text;
    char buffer[1 << 16];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
    const int status = ::pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw TraceError(fmt::format("gzip -dc {} failed ({})", path,
                                     status != -1 && WIFEXITED(status)
                                         ? fmt::format("exit status {}", WEXITSTATUS(status))
                                         : std::string("killed or not waited for")));
    return text;
}

void add_limit(MemoryLimits& limits, std::string_view spec) {
    const auto colon = spec.find(':');
    if (colon == std::string_view::npos || colon == 0)
        throw std::invalid_argument(fmt::format("'{}' is not UNIT:MemoryMax=SIZE", spec));
    const std::string_view unit = spec.substr(0, colon);
    const std::string_view setting = spec.substr(colon + 1);
    constexpr std::string_view kKey = "MemoryMax=";
    if (!setting.starts_with(kKey))
        throw std::invalid_argument(fmt::format("'{}' sets {}; only MemoryMax= is known", spec, setting));
    const auto size = parse_size(setting.substr(kKey.size()));
    if (!size) throw std::invalid_argument(fmt::format("'{}' has no valid size", spec));
    limits.insert_or_assign(std::string(unit), *size);
}

MemoryLimits read_limits_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw TraceError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    MemoryLimits limits;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        const std::string_view text = trim(line);
        if (text.empty() || text.front() == '#') continue;
        try {
            add_limit(limits, text);
        } catch (const std::invalid_argument& e) {
            throw TraceError(fmt::format("{}:{}: {}", path, number, e.what()));
        }
    }
    return limits;
}

void apply_limits(std::vector<TraceTick>& ticks, const MemoryLimits& limits) {
    for (TraceTick& tick : ticks)
        for (TraceRow& row : tick.rows)
            if (const auto limit = limits.find(row.unit); limit != limits.end()) row.memory_max_bytes = limit->second;
}

}  // namespace heal::bench
