#pragma once
// What metrics, actions and incidents share: the options that choose rows
// (--since, --until, --unit, --limit), the paging through healerd's List
// methods, and the three output formats (table, json, csv).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "api.hpp"
#include "commands.hpp"
#include "json_output.hpp"
#include "render.hpp"

namespace healctl {

enum class Format { table, json, csv };

struct HistoryOptions {
    std::optional<std::string> since;
    std::optional<std::string> until;
    std::optional<std::string> unit;   // "machine" for the machine
    std::optional<std::string> limit;  // a count or "all"
    std::optional<std::string> format;
    bool reverse = false;
};

// The options, checked: usage errors name the option.
struct HistoryRequest {
    HistoryFilter filter;
    std::optional<std::uint64_t> newest;  // only the newest N rows; none: every row
    bool reverse = false;                 // newest first
    Format format = Format::table;
    bool filtered() const { return filter.since || filter.until || filter.unit; }
};

// Registers the options; `what` names the rows ("samples").
void add_history_options(CLI::App* sub, HistoryOptions& options, std::string_view what);
HistoryRequest resolve_history(const HistoryOptions& options, const GlobalOptions& global);

// Rows in a page of healerd's order, after the row id `after` (0: the first).
template <typename Entry>
using FetchPage = std::function<std::vector<Entry>(const HistoryFilter&, std::uint64_t after, std::uint32_t limit)>;

// Visits the rows the request selects, oldest first (newest first with
// reverse). Every row: pages are fetched and visited one at a time, so an
// export of any size holds one page. The newest N: those are read newest
// first, then visited in the order asked for.
template <typename Entry>
void each_row(const HistoryRequest& request, const FetchPage<Entry>& fetch,
              const std::function<void(const Entry&)>& visit);

// Where the rows' JSON array sits: `open` comes before it and `close` after
// it, and `depth` is its nesting level, so that the streamed output is the
// document print_json would indent, byte for byte.
struct JsonFrame {
    std::string open;
    std::string close;
    int depth = 0;
};

// One output row per entry in the chosen format; table rows are printed
// aligned once all are in (alignment needs every row), json and csv as
// they come. Nothing is printed before the first row or end(), so a failed
// first call leaves stdout empty. end() returns how many rows were written.
class RowWriter {
public:
    RowWriter(Format format, std::vector<std::string> table_header, std::vector<std::string> csv_header,
              JsonFrame json_frame = {});
    // `json` gives the row's document.
    void add(const std::vector<std::string>& table_cells, const std::vector<std::string>& csv_fields,
             const std::function<Json()>& json);
    std::size_t end();

private:
    void begin();

    Format format_;
    Table table_;
    std::vector<std::string> csv_header_;
    JsonFrame json_frame_;
    bool begun_ = false;
    std::size_t rows_ = 0;
};

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
std::string csv_field(const std::string& text);

}  // namespace healctl
