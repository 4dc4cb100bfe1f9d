#include "detection/replay.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
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

// A field or line quoted for an error message, cut to kEchoLimit bytes (with
// "…" and the full length) so that a 20 MB field is not echoed whole.
constexpr std::size_t kEchoLimit = 64;
std::string quoted(std::string_view text) {
    if (text.size() <= kEchoLimit) return fmt::format("\"{}\"", text);
    std::size_t cut = kEchoLimit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return fmt::format("\"{}…\" ({} bytes)", text.substr(0, cut), text.size());
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
    return std::equal(text.begin(), text.end(), lower.begin(), lower.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

struct Fields {
    std::string_view timestamp;
    std::string_view value;

    bool header() const { return equals_ignoring_case(timestamp, "timestamp") && equals_ignoring_case(value, "value"); }
};

Fields split_row(std::string_view line, std::size_t line_number) {
    const auto comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
        throw ReplayError(fmt::format("line {}: expected 2 comma-separated fields (timestamp,value), got {}",
                                      line_number, quoted(line)));
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
        const bool first_row = std::exchange(header_allowed, false);
        if (first_row && fields.header()) continue;
        const std::optional<double> value = parse_number(fields.value);
        if (!value) {
            throw ReplayError(fmt::format("line {}: value {} is not a finite number{}", line_number,
                                          quoted(fields.value),
                                          first_row ? ", nor is the line the header timestamp,value" : ""));
        }
        if (fields.timestamp.empty()) throw ReplayError(fmt::format("line {}: empty timestamp", line_number));
        rows.push_back({std::string(fields.timestamp), *value, detector.observe(*value).failure});
    }
    if (in.bad()) throw ReplayError(fmt::format("line {}: read error", line_number + 1));
    return rows;
}

}  // namespace heal
