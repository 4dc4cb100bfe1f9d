#include "render.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace healctl {

namespace {

bool colour_on = false;

std::size_t display_width(std::string_view text) {
    // Count UTF-8 lead bytes; every character healctl prints is one column
    // wide. A colour's escape sequence (ESC [ ... m) takes no column.
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\x1b') {
            const std::size_t end = text.find('m', i);
            if (end == std::string_view::npos) break;
            i = end;
            continue;
        }
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++width;
    }
    return width;
}

}  // namespace

bool is_terminal(std::FILE* stream) { return isatty(fileno(stream)) == 1; }

bool colour_wanted(bool terminal, bool no_color_option, const char* no_color_env, const char* term) {
    const bool no_color_set = no_color_env && *no_color_env;
    const bool dumb = term && std::string_view(term) == "dumb";
    return terminal && !no_color_option && !no_color_set && !dumb;
}

void set_colour(bool on) { colour_on = on; }

std::string paint_state(std::string_view word) {
    static constexpr std::string_view kGreen = "\x1b[32m", kYellow = "\x1b[33m", kRed = "\x1b[1;31m", kReset = "\x1b[0m";
    if (!colour_on) return std::string(word);
    std::string_view colour;
    if (word == "healthy" || word == "Healthy" || word == "recovered" || word == "resolved" || word == "active")
        colour = kGreen;
    else if (word == "failed" || word == "Failed" || word == "relapsed" || word == "given_up")
        colour = kRed;
    else if (word == "open" || word == "running" || word == "degraded" || word == "interrupted")
        colour = kYellow;
    if (colour.empty()) return std::string(word);
    return fmt::format("{}{}{}", colour, word, kReset);
}

std::string sparkline(std::span<const double> values, double lo, double hi) {
    static constexpr std::array<std::string_view, 8> kBlocks{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    const double span = hi > lo ? hi - lo : 1.0;
    std::string line;
    for (const double value : values) {
        const double fraction = std::clamp((value - lo) / span, 0.0, 1.0);
        const auto level = std::min<std::size_t>(kBlocks.size() - 1, static_cast<std::size_t>(fraction * kBlocks.size()));
        line += kBlocks[std::isnan(value) ? 0 : level];
    }
    return line;
}

std::string percent(double value) { return fmt::format("{:.1f}%", value); }

std::string seconds(double value) { return fmt::format("{:.2f} s", value); }

std::string optional_seconds(const std::optional<double>& value) { return value ? seconds(*value) : "-"; }

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(rows_.front().size());
    rows_.push_back(std::move(cells));
}

std::string Table::render() const {
    std::vector<std::size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_)
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
    std::string out;
    for (const auto& row : rows_) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line.append(widths[c] - display_width(row[c]) + 2, ' ');
        }
        line.erase(line.find_last_not_of(' ') + 1);  // an empty last cell leaves padding
        out += line + '\n';
    }
    return out;
}

ProgressBar::ProgressBar(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

void ProgressBar::update(unsigned done, unsigned total, std::string_view note) {
    total = std::max(total, 1u);
    done = std::min(done, total);
    if (interactive_) {
        constexpr unsigned kWidth = 30;
        const unsigned filled = done * kWidth / total;
        std::string bar;
        for (unsigned i = 0; i < kWidth; ++i) bar += i < filled ? "█" : "░";
        // \x1b[K clears what a longer previous note left behind.
        fmt::print(out_, "\r{} {:>3}% {}/{} {}\x1b[K", bar, done * 100 / total, done, total, note);
        drawn_ = true;
    } else {
        const unsigned tenth = done * 10 / total;
        if (tenth == last_tenth_ && done != total) return;
        last_tenth_ = tenth;
        fmt::print(out_, "{}/{} {}\n", done, total, note);
    }
    std::fflush(out_);
}

void ProgressBar::finish() {
    if (interactive_ && drawn_) fmt::print(out_, "\n");
    drawn_ = false;
}

}  // namespace healctl
