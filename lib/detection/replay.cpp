#include "detection/replay.hpp"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>

namespace heal {
namespace {

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// The whole field must be a finite number.
std::optional<double> parse_number(std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

struct Fields {
    std::string_view timestamp;
    std::string_view value;
};

Fields split_row(std::string_view line, std::size_t line_number) {
    const auto comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
        throw ReplayError(
            fmt::format("line {}: expected 2 comma-separated fields (timestamp,value), got \"{}\"", line_number, line));
    }
    return {trim(line.substr(0, comma)), trim(line.substr(comma + 1))};
}

}  // namespace

std::vector<ReplayRow> replay_csv(std::istream& in, const AdaptiveDetectorConfig& config) {
    AdaptiveDetector detector("value", config);
    std::vector<ReplayRow> rows;
    std::string line;
    std::size_t line_number = 0;
    bool header_allowed = true;
    while (std::getline(in, line)) {
        ++line_number;
        const std::string_view text = trim(line);
        if (text.empty()) continue;
        const Fields fields = split_row(text, line_number);
        const std::optional<double> value = parse_number(fields.value);
        const bool first_row = std::exchange(header_allowed, false);
        if (!value) {
            if (first_row) continue;  // the header
            throw ReplayError(fmt::format("line {}: value \"{}\" is not a finite number", line_number, fields.value));
        }
        if (fields.timestamp.empty()) throw ReplayError(fmt::format("line {}: empty timestamp", line_number));
        rows.push_back({std::string(fields.timestamp), *value, detector.observe(*value).failure});
    }
    if (in.bad()) throw ReplayError(fmt::format("line {}: read error", line_number + 1));
    return rows;
}

}  // namespace heal
