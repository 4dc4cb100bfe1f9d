#pragma once
// Terminal output: tables, sparklines and a progress bar.
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace healctl {

bool is_terminal(std::FILE* stream);

// Colour on a terminal, as healctl(1) says: wanted when stdout is one, no
// --no-color was given, NO_COLOR is unset or empty (no-color.org) and TERM is
// not "dumb". main() decides once; JSON is never coloured.
bool colour_wanted(bool terminal, bool no_color_option, const char* no_color_env, const char* term);
void set_colour(bool on);
// A state word healerd uses, coloured by what it means when colour is on:
// healthy, recovered, resolved green; failed, relapsed, given_up red; open,
// running, degraded yellow; any other word as it is.
std::string paint_state(std::string_view word);

// One block character (▁..█) per value, scaled between lo and hi.
std::string sparkline(std::span<const double> values, double lo = 0.0, double hi = 100.0);

// "12.3%", "0.75 s", "-": the human forms of the API's numbers.
std::string percent(double value);
std::string seconds(double value);
std::string optional_seconds(const std::optional<double>& value);  // "-" when absent

// Columns sized to their widest cell (counted in code points, so ▁ and σ line up).
class Table {
public:
    explicit Table(std::vector<std::string> headers);
    void add_row(std::vector<std::string> cells);
    std::string render() const;

private:
    std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// On a terminal, one line redrawn in place; otherwise a plain line each time
// another tenth of the work is done, so logs stay short.
class ProgressBar {
public:
    ProgressBar(std::FILE* out, bool interactive);
    void update(unsigned done, unsigned total, std::string_view note);
    // Ends the in-place line.
    void finish();

private:
    std::FILE* out_;
    bool interactive_;
    bool drawn_ = false;
    unsigned last_tenth_ = 0;
};

}  // namespace healctl
