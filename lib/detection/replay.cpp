#include "detection/replay.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

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
// The text, or its first kEchoLimit bytes and "…".
std::string shortened(std::string_view text) {
    if (text.size() <= kEchoLimit) return std::string(text);
    std::size_t cut = kEchoLimit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return fmt::format("{}…", text.substr(0, cut));
}
std::string quoted(std::string_view text) {
    if (text.size() <= kEchoLimit) return fmt::format("\"{}\"", text);
    return fmt::format("\"{}\" ({} bytes)", shortened(text), text.size());
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
    return std::equal(text.begin(), text.end(), lower.begin(), lower.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        const auto comma = line.find(',', start);
        fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
        if (comma == std::string_view::npos) return fields;
        start = comma + 1;
    }
}

// Where the timestamp, the value and (in `healctl metrics --format csv`) the
// target are in each row.
struct Layout {
    std::size_t fields = 2;
    std::size_t timestamp = 0;
    std::size_t value = 1;
    std::optional<std::size_t> unit;
    std::string names = "timestamp,value";  // for errors, cut like any echoed input
};

std::optional<std::size_t> index_of(const std::vector<std::string_view>& names, std::string_view lower) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (equals_ignoring_case(names[i], lower)) return i;
    return std::nullopt;
}

// A header names `timestamp` and the value column; nullopt when the line is
// not a header (a data row).
std::optional<Layout> header_layout(const std::vector<std::string_view>& names, std::string_view column) {
    const auto timestamp = index_of(names, "timestamp");
    const auto value = index_of(names, column);
    if (!timestamp || !value) return std::nullopt;
    std::string joined;
    for (std::size_t i = 0; i < names.size(); ++i) joined += fmt::format("{}{}", i ? "," : "", names[i]);
    return Layout{names.size(), *timestamp, *value, index_of(names, "unit"), shortened(joined)};
}

}  // namespace

std::vector<ReplayRow> replay_csv(std::istream& in, const AdaptiveDetectorConfig& config, std::string_view column) {
    AdaptiveDetector detector("value", config);
    std::vector<ReplayRow> rows;
    std::string line;
    std::size_t line_number = 0;
    std::optional<Layout> layout;
    std::string unit;  // of the first row, when there is a unit column
    while (std::getline(in, line)) {
        ++line_number;
        const std::string_view text = trim(line);
        if (text.empty()) continue;
        const auto fields = split_fields(text);
        const bool first_row = !layout;
        if (first_row) {
            layout = header_layout(fields, column);
            if (layout) continue;
            if (column != "value")
                throw ReplayError(fmt::format("line {}: no header naming the columns timestamp and {}", line_number,
                                              column));
            layout = Layout{};
        }
        if (fields.size() != layout->fields) {
            throw ReplayError(fmt::format("line {}: expected {} comma-separated fields ({}), got {}", line_number,
                                          layout->fields, layout->names, quoted(text)));
        }
        const std::optional<double> value = parse_number(fields[layout->value]);
        if (!value) {
            throw ReplayError(fmt::format("line {}: value {} is not a finite number{}", line_number,
                                          quoted(fields[layout->value]),
                                          first_row ? ", nor is the line the header timestamp,value" : ""));
        }
        if (fields[layout->timestamp].empty()) throw ReplayError(fmt::format("line {}: empty timestamp", line_number));
        if (layout->unit) {
            const std::string_view target = fields[*layout->unit];
            if (rows.empty()) unit = target;
            else if (target != unit)
                throw ReplayError(fmt::format("line {}: unit {} after {}: a replay judges one target's rows "
                                              "(healctl metrics --unit)",
                                              line_number, quoted(target), quoted(unit)));
        }
        rows.push_back({std::string(fields[layout->timestamp]), *value, detector.observe(*value).failure});
    }
    if (in.bad()) throw ReplayError(fmt::format("line {}: read error", line_number + 1));
    return rows;
}

}  // namespace heal
