#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <ini.h>

namespace heal {

ConfigError::ConfigError(std::filesystem::path file, int line, const std::string& message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}: {}", file.string(), line, message)
                                  : fmt::format("{}: {}", file.string(), message)),
      file_(std::move(file)),
      line_(line) {}

AdaptiveDetectorConfig Config::default_detector() {
    AdaptiveDetectorConfig detector;
    detector.consecutive = 3;  // three samples in a row: one spike is not a failure
    return detector;
}

const UnitSettings& Config::settings_of(std::string_view unit) const {
    static const UnitSettings defaults;
    const auto found = unit_settings.find(unit);
    return found == unit_settings.end() ? defaults : found->second;
}

Retention Config::default_retention() {
    return Retention{std::chrono::seconds(7 * 24 * 3600), std::int64_t{1'000'000}};
}

namespace {

using namespace std::chrono_literals;

std::string_view trim(std::string_view text) {
    const auto space = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = text.find_first_not_of(" \t", pos);
        if (start == std::string_view::npos) break;
        const std::size_t end = std::min(text.find_first_of(" \t", start), text.size());
        words.push_back(text.substr(start, end - start));
        pos = end;
    }
    return words;
}

// A non-negative decimal number ("12", "0.5") at the start of `text`;
// advances past it.
std::optional<double> take_number(std::string_view& text) {
    std::size_t end = 0;
    bool digits = false;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end, digits = true;
    if (end < text.size() && text[end] == '.') {
        ++end;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end, digits = true;
    }
    if (!digits) return std::nullopt;
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
    if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
    text.remove_prefix(end);
    return value;
}

template <typename Int>
std::optional<Int> parse_integer(std::string_view text) {
    Int value{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<double> parse_real(std::string_view text) {
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

bool is_infinity(std::string_view text) { return text == "infinity"; }

}  // namespace

std::optional<bool> parse_boolean(std::string_view text) {
    for (const char* yes : {"1", "yes", "y", "true", "t", "on"})
        if (text == yes) return true;
    for (const char* no : {"0", "no", "n", "false", "f", "off"})
        if (text == no) return false;
    return std::nullopt;
}

std::optional<std::chrono::microseconds> parse_timespan(std::string_view text) {
    struct Unit {
        std::string_view name;
        double microseconds;
    };
    static constexpr Unit kUnits[] = {
        {"us", 1.0},           {"usec", 1.0},        {"ms", 1e3},        {"msec", 1e3},
        {"s", 1e6},            {"sec", 1e6},         {"second", 1e6},    {"seconds", 1e6},
        {"m", 60e6},           {"min", 60e6},        {"minute", 60e6},   {"minutes", 60e6},
        {"h", 3600e6},         {"hr", 3600e6},       {"hour", 3600e6},   {"hours", 3600e6},
        {"d", 86400e6},        {"day", 86400e6},     {"days", 86400e6},  {"w", 604800e6},
        {"week", 604800e6},    {"weeks", 604800e6},
    };
    text = trim(text);
    if (text.empty()) return std::nullopt;
    double total = 0.0;
    while (!text.empty()) {
        const auto number = take_number(text);
        if (!number) return std::nullopt;
        std::size_t unit_end = 0;
        while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) ++unit_end;
        const std::string_view unit_name = text.substr(0, unit_end);
        double scale = 1e6;  // a bare number is seconds
        if (!unit_name.empty()) {
            const auto* unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                            [&](const Unit& u) { return u.name == unit_name; });
            if (unit == std::end(kUnits)) return std::nullopt;
            scale = unit->microseconds;
        }
        total += *number * scale;
        text = trim(text.substr(unit_end));
    }
    // Ten years is more than any setting here needs, and keeps the cast exact.
    if (total > 315'360'000e6) return std::nullopt;
    return std::chrono::microseconds(static_cast<std::int64_t>(std::llround(total)));
}

std::optional<std::optional<std::uint64_t>> parse_size(std::string_view text) {
    text = trim(text);
    if (is_infinity(text)) return std::optional<std::uint64_t>{};
    const auto number = take_number(text);
    if (!number) return std::nullopt;
    double scale = 1.0;
    if (!text.empty()) {
        static constexpr std::string_view kSuffixes = "KMGT";
        const std::size_t index = kSuffixes.find(text.front());
        if (text.size() != 1 || index == std::string_view::npos) return std::nullopt;
        scale = std::pow(1024.0, static_cast<double>(index + 1));
    }
    const double bytes = std::floor(*number * scale);
    if (bytes >= 18446744073709551615.0) return std::nullopt;
    return std::optional<std::uint64_t>(static_cast<std::uint64_t>(bytes));
}

std::optional<std::optional<double>> parse_cpu_quota(std::string_view text) {
    text = trim(text);
    if (is_infinity(text)) return std::optional<double>{};
    if (!text.empty() && text.back() == '%') text.remove_suffix(1);
    const auto percent = take_number(text);
    if (!percent || !text.empty() || *percent <= 0.0) return std::nullopt;
    return std::optional<double>(*percent);
}

bool valid_unit_name(std::string_view name) {
    static constexpr std::string_view kTypes[] = {".service", ".socket", ".target", ".device",  ".mount",
                                                  ".automount", ".swap", ".timer", ".path", ".slice", ".scope"};
    if (name.empty() || name.size() > 255) return false;
    const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(":_.\\@-", c) != nullptr;
    });
    if (!chars_ok) return false;
    return std::any_of(std::begin(kTypes), std::end(kTypes), [&](std::string_view type) {
        return name.size() > type.size() && name.ends_with(type);
    });
}

namespace {

// One assignment's outcome: empty when accepted, else what is wrong with the value.
using Problem = std::optional<std::string>;
using Setter = std::function<Problem(Config&, std::string_view value)>;

struct KeyRule {
    std::string_view section;
    std::string_view key;
    Setter set;
};

// Integer within [low, high], written through `field`.
template <typename Int, typename Field>
Setter integer(Field field, Int low, Int high) {
    return [=](Config& config, std::string_view value) -> Problem {
        const auto parsed = parse_integer<Int>(value);
        if (!parsed || *parsed < low || *parsed > high)
            return fmt::format("must be a whole number from {} to {}", low, high);
        field(config) = *parsed;
        return std::nullopt;
    };
}

template <typename Field>
Setter real(Field field, double low, double high, std::string_view range_text) {
    return [=](Config& config, std::string_view value) -> Problem {
        const auto parsed = parse_real(value);
        if (!parsed || *parsed < low || *parsed > high) return fmt::format("must be a number {}", range_text);
        field(config) = *parsed;
        return std::nullopt;
    };
}

template <typename Field>
Setter boolean(Field field) {
    return [=](Config& config, std::string_view value) -> Problem {
        const auto parsed = parse_boolean(value);
        if (!parsed) return std::string("must be a boolean (yes/no, true/false, on/off, 1/0)");
        field(config) = *parsed;
        return std::nullopt;
    };
}

// A time span within [low, high], stored with the field's precision.
template <typename Field>
Setter timespan(Field field, std::chrono::microseconds low, std::chrono::microseconds high,
                std::string_view range_text) {
    return [=](Config& config, std::string_view value) -> Problem {
        const auto parsed = parse_timespan(value);
        if (!parsed || *parsed < low || *parsed > high)
            return fmt::format("must be a time span {} (e.g. 5s, 500ms, 2min)", range_text);
        auto& target = field(config);
        target = std::chrono::duration_cast<std::remove_reference_t<decltype(target)>>(*parsed);
        return std::nullopt;
    };
}

Problem set_units(Config& config, std::string_view value) {
    const auto words = split_words(value);
    if (words.empty()) {
        config.units.clear();
        return std::nullopt;
    }
    for (const std::string_view word : words)
        if (!valid_unit_name(word))
            return fmt::format("'{}' is not a unit name (like nginx.service)", word);
    for (const std::string_view word : words)
        if (std::find(config.units.begin(), config.units.end(), word) == config.units.end())
            config.units.emplace_back(word);
    return std::nullopt;
}

// An allow-list: each assignment replaces it, so one line says all that is allowed.
Problem set_actions(Config& config, std::string_view value) {
    ActionSet allowed;
    for (const std::string_view word : split_words(value)) {
        const auto action = parse_action(word);
        if (!action) return fmt::format("'{}' is not an action (restart, scale_up, rollback, do_nothing)", word);
        allowed.set(static_cast<std::size_t>(*action));
    }
    config.allowed_actions = allowed;
    return std::nullopt;
}

Problem set_absolute_path(std::filesystem::path& target, std::string_view value) {
    const std::filesystem::path path(value);
    if (!path.is_absolute()) return std::string("must be an absolute path");
    target = path.lexically_normal();
    return std::nullopt;
}

Problem set_memory_ceiling(Config& config, std::string_view value) {
    const auto parsed = parse_size(value);
    if (!parsed || (*parsed && **parsed == 0))
        return std::string("must be a size like 512M or 4G, or infinity");
    config.backend.memory_max_ceiling = *parsed;
    return std::nullopt;
}

Problem set_cpu_ceiling(Config& config, std::string_view value) {
    const auto parsed = parse_cpu_quota(value);
    if (!parsed) return std::string("must be a percentage of one CPU like 200%, or infinity");
    config.backend.cpu_quota_ceiling = *parsed;
    return std::nullopt;
}

Problem set_database(Config& config, std::string_view value) {
    if (value.empty()) {
        config.database.reset();
        return std::nullopt;
    }
    std::filesystem::path path;
    if (auto problem = set_absolute_path(path, value)) return problem;
    config.database = path;
    return std::nullopt;
}

Problem set_max_age(Config& config, std::string_view value) {
    if (is_infinity(value)) {
        config.retention.max_age.reset();
        return std::nullopt;
    }
    const auto parsed = parse_timespan(value);
    if (!parsed) return std::string("must be a time span like 7d or 12h, or infinity");
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
    if (seconds.count() == 0)
        config.retention.max_age.reset();
    else
        config.retention.max_age = seconds;
    return std::nullopt;
}

Problem set_max_rows(Config& config, std::string_view value) {
    if (is_infinity(value)) {
        config.retention.max_rows.reset();
        return std::nullopt;
    }
    const auto parsed = parse_integer<std::int64_t>(value);
    if (!parsed || *parsed < 0) return std::string("must be a whole number of rows, or infinity");
    if (*parsed == 0)
        config.retention.max_rows.reset();
    else
        config.retention.max_rows = *parsed;
    return std::nullopt;
}

const std::vector<KeyRule>& key_rules() {
    constexpr auto hour = std::chrono::microseconds(3600s);
    constexpr auto ten_years = std::chrono::microseconds(std::chrono::hours(24 * 3650));
    static const std::vector<KeyRule> rules = {
        {"Monitor", "SampleIntervalSec",
         timespan([](Config& c) -> auto& { return c.sample_interval; }, 100ms, hour, "from 100ms to 1h")},
        {"Monitor", "Units", set_units},

        {"Detector", "Window",
         integer<std::size_t>([](Config& c) -> auto& { return c.detector.window; }, 2, 100000)},
        {"Detector", "K", real([](Config& c) -> auto& { return c.detector.k; }, 0.0, 100.0, "from 0 to 100")},
        {"Detector", "MinSamples",
         integer<std::size_t>([](Config& c) -> auto& { return c.detector.min_samples; }, 2, 100000)},
        {"Detector", "WarmupThreshold",
         real([](Config& c) -> auto& { return c.detector.warmup_threshold; }, 0.0, 10000.0,
              "(percent) from 0 to 10000")},
        {"Detector", "Consecutive",
         integer<std::size_t>([](Config& c) -> auto& { return c.detector.consecutive; }, 1, 10000)},
        {"Detector", "Floor",
         real([](Config& c) -> auto& { return c.detector.floor; }, 0.0, 10000.0, "(percent) from 0 to 10000")},
        {"Detector", "RelearnAfter",
         integer<std::size_t>([](Config& c) -> auto& { return c.detector.relearn_after; }, 0, 1000000)},

        {"Recovery", "AutoRecover", boolean([](Config& c) -> auto& { return c.auto_recover; })},
        {"Recovery", "AllowedActions", set_actions},
        {"Recovery", "RecoveryTimeoutSec",
         timespan([](Config& c) -> auto& { return c.recovery_timeout; }, 100ms, hour, "from 100ms to 1h")},
        {"Recovery", "CircuitBreakerBurst",
         integer<std::uint32_t>([](Config& c) -> auto& { return c.circuit_breaker_burst; }, 1, 1000)},
        {"Recovery", "CircuitBreakerIntervalSec",
         timespan([](Config& c) -> auto& { return c.circuit_breaker_interval; }, 0s, ten_years,
                  "of whole seconds (0 turns the breaker off)")},
        {"Recovery", "ScaleUpFactor",
         real([](Config& c) -> auto& { return c.backend.scale_up_factor; }, 1.01, 100.0,
              "above 1 (at least 1.01) and at most 100")},
        {"Recovery", "MemoryMaxCeiling", set_memory_ceiling},
        {"Recovery", "CPUQuotaCeiling", set_cpu_ceiling},
        {"Recovery", "RollbackHook",
         [](Config& c, std::string_view v) { return set_absolute_path(c.backend.rollback_hook, v); }},
        {"Recovery", "RollbackTimeoutSec",
         timespan([](Config& c) -> auto& { return c.backend.rollback_timeout; }, 1s, 24h,
                  "of whole seconds, from 1s to 1d")},
        {"Recovery", "PackageChangeWindowSec",
         timespan([](Config& c) -> auto& { return c.backend.package_change_window; }, 0s, ten_years,
                  "of whole seconds")},
        {"Recovery", "DryRun", boolean([](Config& c) -> auto& { return c.backend.dry_run; })},

        {"Storage", "Path", set_database},
        {"Storage", "MaxAgeSec", set_max_age},
        {"Storage", "MaxRows", set_max_rows},
        {"Storage", "WriteIntervalSec",
         timespan([](Config& c) -> auto& { return c.metric_write_interval; }, 0s, hour,
                  "from 0 (every sample) to 1h")},
    };
    return rules;
}

// Feeds inih one line at a time so the handler knows which line it is on
// (inih only reports the first syntax error's line).
struct LineReader {
    std::string_view rest;
    int line = 0;
    int too_long_line = 0;  // first line that did not fit inih's buffer
};

char* read_line(char* buffer, int size, void* stream) {
    auto* reader = static_cast<LineReader*>(stream);
    if (reader->rest.empty()) return nullptr;
    std::size_t length = reader->rest.find('\n');
    length = length == std::string_view::npos ? reader->rest.size() : length + 1;
    ++reader->line;
    const std::size_t room = static_cast<std::size_t>(size) - 1;
    if (length > room && reader->too_long_line == 0) reader->too_long_line = reader->line;
    const std::size_t copied = std::min(length, room);
    std::memcpy(buffer, reader->rest.data(), copied);
    buffer[copied] = '\0';
    reader->rest.remove_prefix(length);
    return buffer;
}

struct ParseState {
    Config* config;
    const std::filesystem::path* file;
    LineReader* reader;
    std::optional<ConfigError> error;  // the first one
};

int on_key(void* user, const char* section_text, const char* key_text, const char* value_text) {
    auto* state = static_cast<ParseState*>(user);
    if (state->error) return 1;
    const std::string_view section(section_text), key(key_text), value(value_text);
    const int line = state->reader->line;
    const auto fail = [&](const std::string& message) {
        state->error.emplace(*state->file, line, message);
        return 0;
    };
    if (section.empty()) return fail(fmt::format("key {} is outside any section", key));
    const auto& rules = key_rules();
    const bool known_section =
        std::any_of(rules.begin(), rules.end(), [&](const KeyRule& rule) { return rule.section == section; });
    if (!known_section) return fail(fmt::format("unknown section [{}] (key {})", section, key));
    const auto rule = std::find_if(rules.begin(), rules.end(),
                                   [&](const KeyRule& r) { return r.section == section && r.key == key; });
    if (rule == rules.end()) return fail(fmt::format("unknown key {} in section [{}]", key, section));
    if (const Problem problem = rule->set(*state->config, value))
        return fail(fmt::format("[{}] {}={}: {}", section, key, value, *problem));
    return 1;
}

// Settings that only make sense together, checked once every file is applied.
void check_combination(const Config& config, const std::filesystem::path& last_file) {
    const AdaptiveDetectorConfig& d = config.detector;
    if (d.min_samples > d.window)
        throw ConfigError(last_file, 0,
                          fmt::format("[Detector] MinSamples={} is larger than Window={}", d.min_samples, d.window));
    if (d.relearn_after != 0 && d.relearn_after < d.consecutive)
        throw ConfigError(last_file, 0,
                          fmt::format("[Detector] RelearnAfter={} must be 0 or at least Consecutive={}",
                                      d.relearn_after, d.consecutive));
}

std::string read_whole_file(const std::filesystem::path& file) {
    const auto fail = [&](int error) { return ConfigError(file, 0, fmt::format("cannot read: {}", std::strerror(error))); };
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw fail(errno);
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            close(fd);
            throw fail(error);
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    return content;
}

}  // namespace

void apply_config_file(Config& config, const std::filesystem::path& file) {
    // systemd's syntax: comments only at the start of a line, no Python-style
    // indented continuation lines.
    ini_allow_inline_comments = false;
    ini_allow_multiline = false;

    const std::string content = read_whole_file(file);
    if (content.find('\0') != std::string::npos) throw ConfigError(file, 0, "is not a text file (contains NUL bytes)");

    Config candidate = config;  // a bad file changes nothing
    LineReader reader{content};
    ParseState state{&candidate, &file, &reader, std::nullopt};
    const int result = ini_parse_stream(read_line, &reader, on_key, &state);
    // Report whichever problem comes first in the file.
    std::optional<ConfigError> first = state.error;
    const auto consider = [&](int line, const char* message, bool wins_ties) {
        if (line > 0 && (!first || line < first->line() || (wins_ties && line == first->line())))
            first.emplace(file, line, message);
    };
    // A truncated line's own complaints are noise: "too long" explains them.
    consider(reader.too_long_line, "line too long", true);
    consider(result, "syntax error: expected [Section] or Key=Value", false);
    if (first) throw *first;
    if (result != 0) throw ConfigError(file, 0, "cannot parse");
    config = std::move(candidate);
}

std::vector<std::pair<std::string_view, std::string_view>> config_keys() {
    std::vector<std::pair<std::string_view, std::string_view>> keys;
    for (const KeyRule& rule : key_rules()) keys.emplace_back(rule.section, rule.key);
    return keys;
}

std::filesystem::path drop_in_directory(const std::filesystem::path& main_file) {
    std::filesystem::path directory = main_file;
    directory += ".d";
    return directory;
}

std::filesystem::path unit_settings_directory(const std::filesystem::path& main_file) {
    return main_file.parent_path() / "units.d";
}

Config load_config(const std::filesystem::path& main_file, bool main_required) {
    Config config;
    std::filesystem::path last_file = main_file;
    std::error_code ec;
    if (std::filesystem::exists(main_file, ec)) {
        apply_config_file(config, main_file);
    } else if (main_required) {
        throw ConfigError(main_file, 0, "does not exist");
    }

    const std::filesystem::path directory = drop_in_directory(main_file);
    std::vector<std::filesystem::path> drop_ins;
    if (std::filesystem::is_directory(directory, ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(directory, ec))
            if (entry.path().extension() == ".conf" && !entry.is_directory()) drop_ins.push_back(entry.path());
        if (ec) throw ConfigError(directory, 0, fmt::format("cannot list: {}", ec.message()));
    }
    // Lexical order by file name, as systemd orders drop-ins.
    std::sort(drop_ins.begin(), drop_ins.end(),
              [](const auto& a, const auto& b) { return a.filename().string() < b.filename().string(); });
    for (const auto& drop_in : drop_ins) {
        apply_config_file(config, drop_in);
        last_file = drop_in;
    }
    check_combination(config, last_file);
    return config;
}

}  // namespace heal
