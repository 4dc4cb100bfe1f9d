#include "sampling/proc_parsers.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace heal {
namespace {

constexpr std::string_view kWhitespace = " \t\n";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(kWhitespace);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(kWhitespace);
    return text.substr(first, last - first + 1);
}

// Splits off the next whitespace-separated token of `rest`.
std::string_view next_token(std::string_view& rest) {
    rest = rest.substr(std::min(rest.size(), rest.find_first_not_of(kWhitespace)));
    const auto end = std::min(rest.size(), rest.find_first_of(kWhitespace));
    const auto token = rest.substr(0, end);
    rest.remove_prefix(end);
    return token;
}

std::optional<std::uint64_t> to_u64(std::string_view token) {
    std::uint64_t value = 0;
    const auto* end = token.data() + token.size();
    const auto [ptr, ec] = std::from_chars(token.data(), end, value);
    if (token.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

std::optional<double> to_non_negative_double(std::string_view token) {
    double value = 0.0;
    const auto* end = token.data() + token.size();
    const auto [ptr, ec] = std::from_chars(token.data(), end, value);
    if (token.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    if (!std::isfinite(value) || value < 0.0) return std::nullopt;
    return value;
}

// The rest of the first line that starts with `key` followed by whitespace
// (so "usage_usec" does not match "usage_usec_total").
std::optional<std::string_view> value_of(std::string_view text, std::string_view key) {
    while (!text.empty()) {
        const auto line = next_line(text);
        if (line.size() > key.size() && line.starts_with(key) &&
            kWhitespace.find(line[key.size()]) != std::string_view::npos) {
            return line.substr(key.size());
        }
    }
    return std::nullopt;
}

// A meminfo or status value: "   16318412 kB".
std::optional<std::uint64_t> kb_value(std::string_view text, std::string_view key) {
    auto rest = value_of(text, key);
    if (!rest) return std::nullopt;
    const auto number = to_u64(next_token(*rest));
    const auto unit = next_token(*rest);
    if (!number || (unit != "kB" && !unit.empty())) return std::nullopt;
    return number;
}

struct PressureLine {
    double avg10 = 0.0;
    std::uint64_t total_us = 0;
};

// The fields of one PSI line after its "some" or "full".
std::optional<PressureLine> parse_pressure_line(std::string_view fields) {
    std::optional<double> avg10;
    std::optional<std::uint64_t> total;
    for (auto token = next_token(fields); !token.empty(); token = next_token(fields)) {
        if (token.starts_with("avg10=")) {
            avg10 = to_non_negative_double(token.substr(6));
        } else if (token.starts_with("total=")) {
            total = to_u64(token.substr(6));
        }
    }
    if (!avg10 || !total) return std::nullopt;
    return PressureLine{*avg10, *total};
}

[[noreturn]] void fail(std::string_view file, std::string_view problem) {
    std::string message{file};
    message += ": ";
    message += problem;
    throw SampleError(message);
}

}  // namespace

std::string_view next_line(std::string_view& rest) {
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    return line;
}

bool is_pid(std::string_view line) {
    return !line.empty() && line.size() <= 10 &&
           line.find_first_not_of("0123456789") == std::string_view::npos;
}

CpuTimes parse_proc_stat(std::string_view text, std::string_view file) {
    auto fields = value_of(text, "cpu");
    if (!fields) fail(file, "no aggregate \"cpu\" line");

    // user nice system idle iowait irq softirq steal guest guest_nice; kernels
    // before 2.6.11 stop early, so only the first four are required.
    constexpr int kCounted = 8;
    constexpr int kRequired = 4;
    std::uint64_t values[kCounted] = {};
    int count = 0;
    for (; count < kCounted; ++count) {
        const auto token = next_token(*fields);
        if (token.empty()) break;
        const auto value = to_u64(token);
        if (!value) {
            fail(file, "malformed field " + std::to_string(count + 1) + " of the \"cpu\" line: \"" +
                           std::string{token} + "\"");
        }
        values[count] = *value;
    }
    if (count < kRequired) {
        fail(file, "the \"cpu\" line has " + std::to_string(count) + " fields, expected at least " +
                       std::to_string(kRequired));
    }
    CpuTimes times;
    for (const auto value : values) times.total += value;
    times.idle = values[3] + values[4];
    return times;
}

double cpu_percent_between(const CpuTimes& before, const CpuTimes& after) {
    if (after.total <= before.total) return 0.0;
    const auto elapsed = after.total - before.total;
    // iowait is known to go backwards on some kernels: count that as no idle.
    const auto idle = after.idle >= before.idle ? after.idle - before.idle : 0;
    const auto busy = elapsed > idle ? elapsed - idle : 0;
    return 100.0 * static_cast<double>(busy) / static_cast<double>(elapsed);
}

MemInfo parse_meminfo(std::string_view text, std::string_view file) {
    const auto total = kb_value(text, "MemTotal:");
    if (!total) fail(file, "MemTotal is missing or malformed");
    if (*total == 0) fail(file, "MemTotal is 0");
    const auto available = kb_value(text, "MemAvailable:");
    if (!available) fail(file, "MemAvailable is missing or malformed");
    return {*total, *available};
}

double memory_percent(const MemInfo& info) {
    if (info.total_kb == 0 || info.available_kb >= info.total_kb) return 0.0;
    return 100.0 * static_cast<double>(info.total_kb - info.available_kb) /
           static_cast<double>(info.total_kb);
}

std::optional<Pressure> parse_pressure(std::string_view text) {
    const auto some_fields = value_of(text, "some");
    if (!some_fields) return std::nullopt;
    const auto some = parse_pressure_line(*some_fields);
    if (!some) return std::nullopt;
    Pressure pressure{some->avg10, some->total_us, std::nullopt};
    if (const auto full_fields = value_of(text, "full")) {
        if (const auto full = parse_pressure_line(*full_fields)) pressure.full_avg10 = full->avg10;
    }
    return pressure;
}

std::optional<std::uint64_t> parse_cpu_stat_usage_usec(std::string_view text) {
    const auto value = value_of(text, "usage_usec");
    if (!value) return std::nullopt;
    return to_u64(trim(*value));
}

std::optional<std::uint64_t> parse_memory_stat_field(std::string_view text, std::string_view key) {
    const auto value = value_of(text, key);
    if (!value) return std::nullopt;
    return to_u64(trim(*value));
}

std::optional<std::uint64_t> parse_single_u64(std::string_view text) {
    return to_u64(trim(text));
}

std::optional<MemoryLimit> parse_memory_limit(std::string_view text) {
    const auto token = trim(text);
    if (token == "max") return MemoryLimit{};
    const auto bytes = to_u64(token);
    if (!bytes) return std::nullopt;
    // v1 spells "unlimited" as LONG_MAX rounded down to the page size, which
    // varies by architecture; no real limit comes near 2^62 bytes.
    constexpr std::uint64_t kUnlimitedFrom = std::uint64_t{1} << 62;
    if (*bytes >= kUnlimitedFrom) return MemoryLimit{};
    return MemoryLimit{*bytes};
}

std::optional<CpuLimit> parse_cpu_max(std::string_view text) {
    auto rest = trim(text);
    const auto quota = next_token(rest);
    const auto period = to_u64(next_token(rest));
    if (!period || *period == 0 || !trim(rest).empty()) return std::nullopt;
    if (quota == "max") return CpuLimit{};
    const auto quota_us = to_u64(quota);
    if (!quota_us) return std::nullopt;
    return CpuLimit{100.0 * static_cast<double>(*quota_us) / static_cast<double>(*period)};
}

std::optional<std::uint64_t> parse_status_vmrss_bytes(std::string_view text) {
    const auto kb = kb_value(text, "VmRSS:");
    if (!kb || *kb > UINT64_MAX / 1024) return std::nullopt;
    return *kb * 1024;
}

std::optional<char> parse_stat_state(std::string_view text) {
    const auto close = text.rfind(')');
    if (text.find('(') == std::string_view::npos || close == std::string_view::npos || close + 2 >= text.size() ||
        text[close + 1] != ' ')
        return std::nullopt;
    const char state = text[close + 2];
    return state >= 'A' && state <= 'Z' ? std::optional<char>(state) : std::nullopt;
}

}  // namespace heal
