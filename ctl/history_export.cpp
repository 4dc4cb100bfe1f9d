#include "history_export.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "error.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

// Rows per List call: the API's bound.
constexpr std::uint32_t kPageRows = 10000;
// The newest rows shown when no time range, and no --limit, is given.
constexpr std::uint64_t kDefaultNewest = 50;

std::optional<std::uint64_t> parse_limit(const std::string& text) {
    if (text == "all") return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0)
        throw CtlError(Exit::usage, fmt::format("--limit '{}': expected a count of at least 1, or all.", text));
    return value;
}

// One of the names --format accepts (CLI11 checks them).
Format format_named(const std::string& name) {
    return name == "json" ? Format::json : name == "csv" ? Format::csv : Format::table;
}

}  // namespace

void add_history_options(CLI::App* sub, HistoryOptions& options, std::string_view what) {
    sub->add_option("--since", options.since, fmt::format("Only {} from this time on (e.g. -1d, 2025-01-15)", what))
        ->type_name("TIME");
    sub->add_option("--until", options.until, fmt::format("Only {} before this time", what))->type_name("TIME");
    sub->add_option("--unit", options.unit, fmt::format("Only the {} of this target; machine is the machine", what))
        ->type_name("UNIT");
    sub->add_option("--limit,-n", options.limit,
                    fmt::format("Only the newest N {}, or all (default: 50 without --since or --until, else all)",
                                what))
        ->type_name("N|all");
    sub->add_option("--format", options.format, "json is --json; json and csv stream every row")
        ->check(CLI::IsMember({"table", "json", "csv"}));
    sub->add_flag("--reverse,-r", options.reverse, "Newest first");
}

HistoryRequest resolve_history(const HistoryOptions& options, const GlobalOptions& global) {
    HistoryRequest request;
    request.format = options.format ? format_named(*options.format) : global.json ? Format::json : Format::table;
    if (global.json && request.format != Format::json)
        throw CtlError(Exit::usage, fmt::format("--json contradicts --format {}.", *options.format));
    const auto now = std::chrono::system_clock::now();
    if (options.since) request.filter.since = micros(time_argument("--since", *options.since, now));
    if (options.until) request.filter.until = micros(time_argument("--until", *options.until, now));
    if (request.filter.since && request.filter.until && *request.filter.since >= *request.filter.until)
        throw CtlError(Exit::usage, fmt::format("--since '{}' is not before --until '{}'.", *options.since,
                                                *options.until));
    if (options.unit) request.filter.unit = *options.unit == "machine" ? "" : *options.unit;
    request.reverse = options.reverse;
    if (options.limit) request.newest = parse_limit(*options.limit);
    else if (!options.since && !options.until) request.newest = kDefaultNewest;
    return request;
}

template <typename Entry>
void each_row(const HistoryRequest& request, const FetchPage<Entry>& fetch,
              const std::function<void(const Entry&)>& visit) {
    HistoryFilter filter = request.filter;
    filter.newest_first = request.reverse || request.newest;
    if (!request.newest) {
        for (std::uint64_t after = 0;;) {
            const std::vector<Entry> page = fetch(filter, after, kPageRows);
            for (const Entry& entry : page) visit(entry);
            if (page.size() < kPageRows) return;
            after = page.back().id;
        }
    }
    std::vector<Entry> newest;
    for (std::uint64_t after = 0; newest.size() < *request.newest;) {
        const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(kPageRows, *request.newest - newest.size()));
        std::vector<Entry> page = fetch(filter, after, want);
        const bool last = page.size() < want;
        if (!page.empty()) after = page.back().id;
        std::move(page.begin(), page.end(), std::back_inserter(newest));
        if (last) break;
    }
    if (request.reverse) std::for_each(newest.begin(), newest.end(), visit);
    else std::for_each(newest.rbegin(), newest.rend(), visit);
}

template void each_row(const HistoryRequest&, const FetchPage<MetricPoint>&,
                       const std::function<void(const MetricPoint&)>&);
template void each_row(const HistoryRequest&, const FetchPage<ActionEntry>&,
                       const std::function<void(const ActionEntry&)>&);
template void each_row(const HistoryRequest&, const FetchPage<IncidentEntry>&,
                       const std::function<void(const IncidentEntry&)>&);

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

namespace {

void print_csv_line(const std::vector<std::string>& fields) {
    std::vector<std::string> quoted;
    for (const std::string& field : fields) quoted.push_back(csv_field(field));
    fmt::print("{}\n", fmt::join(quoted, ","));
}

// Each line of `text` after the first, indented by `spaces`.
std::string indented(const std::string& text, std::size_t spaces) {
    std::string out;
    for (const char c : text) {
        out += c;
        if (c == '\n') out.append(spaces, ' ');
    }
    return out;
}

}  // namespace

RowWriter::RowWriter(Format format, std::vector<std::string> table_header, std::vector<std::string> csv_header,
                     JsonFrame json_frame)
    : format_(format),
      table_(std::move(table_header)),
      csv_header_(std::move(csv_header)),
      json_frame_(std::move(json_frame)) {}

void RowWriter::begin() {
    if (std::exchange(begun_, true)) return;
    if (format_ == Format::csv) {
        print_csv_line(csv_header_);
    } else if (format_ == Format::json) {
        fmt::print("{}[", json_frame_.open);
    }
}

void RowWriter::add(const std::vector<std::string>& table_cells, const std::vector<std::string>& csv_fields,
                    const std::function<Json()>& json) {
    begin();
    switch (format_) {
        case Format::table:
            table_.add_row(table_cells);
            break;
        case Format::json: {
            const auto spaces = static_cast<std::size_t>(kJsonIndent * (json_frame_.depth + 1));
            fmt::print("{}\n{}{}", rows_ == 0 ? "" : ",", std::string(spaces, ' '),
                       indented(dump_json(json(), kJsonIndent), spaces));
            break;
        }
        case Format::csv:
            print_csv_line(csv_fields);
            break;
    }
    ++rows_;
}

std::size_t RowWriter::end() {
    begin();
    if (format_ == Format::table && rows_ > 0) fmt::print("{}", table_.render());
    if (format_ == Format::json) {
        const std::string close_indent(static_cast<std::size_t>(kJsonIndent * json_frame_.depth), ' ');
        fmt::print("{}]{}\n", rows_ == 0 ? "" : "\n" + close_indent, json_frame_.close);
    }
    std::fflush(stdout);
    return rows_;
}

}  // namespace healctl
