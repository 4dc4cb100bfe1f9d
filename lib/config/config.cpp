#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/words.hpp"

namespace heal {

ConfigError::ConfigError(std::filesystem::path file, int line, const std::string& message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}: {}", file.string(), line, message)
                                  : fmt::format("{}: {}", file.string(), message)),
      file_(std::move(file)),
      line_(line) {}


ActionSet Config::allowed_actions_of(std::string_view unit) const {
    return settings_of(unit).allowed_actions.value_or(allowed_actions);
}

LimitCeilings Config::ceilings_of(std::string_view unit) const {
    const UnitSettings& settings = settings_of(unit);
    return LimitCeilings{settings.memory_max_ceiling.value_or(backend.ceilings.memory),
                         settings.cpu_quota_ceiling.value_or(backend.ceilings.cpu_quota)};
}

IncidentOptions Config::incident_options(std::string_view unit) const {
    IncidentOptions options = incident;
    if (const auto stable = settings_of(unit).stable) options.stable = *stable;
    return options;
}

const UnitSettings& Config::settings_of(std::string_view unit) const {
    static const UnitSettings defaults;
    const auto found = unit_settings.find(unit);
    return found == unit_settings.end() ? defaults : found->second;
}

std::vector<ProbeSpec> UnitSettings::probe_specs(std::string_view unit, std::string_view user) const {
    std::vector<ProbeSpec> specs;
    for (const ProbeTarget& target : probes)
        specs.push_back(ProbeSpec{std::string(unit), target, probe_options, std::string(user)});
    return specs;
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

bool is_service_template(std::string_view name) {
    constexpr std::string_view suffix = "@.service";
    return name.ends_with(suffix) && name.size() > suffix.size() && valid_unit_name(name);
}

namespace {

// One assignment's outcome: empty when accepted, else what is wrong with the value.
using Problem = std::optional<std::string>;

// One key of a file: where it goes in a Config (main files) or a
// UnitSettings (units.d/).
template <typename Target>
struct KeyRule {
    std::string_view section;
    std::string_view key;
    std::function<Problem(Target&, std::string_view value)> set;
};

// The setters below are generic over the target, so Config and UnitSettings
// rules share them.

// Integer within [low, high], written through `field`.
template <typename Int, typename Field>
auto integer(Field field, Int low, Int high) {
    return [=](auto& config, std::string_view value) -> Problem {
        const auto parsed = parse_integer<Int>(value);
        if (!parsed || *parsed < low || *parsed > high)
            return fmt::format("must be a whole number from {} to {}", low, high);
        field(config) = *parsed;
        return std::nullopt;
    };
}

template <typename Field>
auto real(Field field, double low, double high, std::string_view range_text) {
    return [=](auto& config, std::string_view value) -> Problem {
        const auto parsed = parse_real(value);
        if (!parsed || *parsed < low || *parsed > high) return fmt::format("must be a number {}", range_text);
        field(config) = *parsed;
        return std::nullopt;
    };
}

template <typename Field>
auto boolean(Field field) {
    return [=](auto& config, std::string_view value) -> Problem {
        const auto parsed = parse_boolean(value);
        if (!parsed) return std::string("must be a boolean (yes/no, true/false, on/off, 1/0)");
        field(config) = *parsed;
        return std::nullopt;
    };
}

// A time span within [low, high], stored with the field's precision.
template <typename Field>
auto timespan(Field field, std::chrono::microseconds low, std::chrono::microseconds high,
              std::string_view range_text) {
    return [=](auto& config, std::string_view value) -> Problem {
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

// An allow-list: each assignment replaces it, so one line says all that is
// allowed. [Recovery]'s and a unit's [Unit] share the rule.
template <typename Field>
auto action_list(Field field) {
    return [field](auto& settings, std::string_view value) -> Problem {
        ActionSet allowed;
        for (const std::string_view word : split_words(value)) {
            const auto action = parse_action(word);
            if (!action) return fmt::format("'{}' is not an action (restart, scale_up, rollback, do_nothing)", word);
            allowed.set(static_cast<std::size_t>(*action));
        }
        field(settings) = allowed;
        return std::nullopt;
    };
}

// Empty clears it, as systemd's OnFailure= does.
Problem set_alert_template(Config& config, std::string_view value) {
    value = trim(value);
    if (!value.empty() && !is_service_template(value))
        return fmt::format("'{}' is not a template service unit (like healerd-alert@.service)", value);
    config.on_give_up = std::string(value);
    return std::nullopt;
}

Problem set_absolute_path(std::filesystem::path& target, std::string_view value) {
    const std::filesystem::path path(value);
    if (!path.is_absolute()) return std::string("must be an absolute path");
    target = path.lexically_normal();
    return std::nullopt;
}

// "2x": a multiple (at least 1) of the unit's configured limit.
std::optional<LimitCeiling> parse_ceiling_multiple(std::string_view text) {
    text = trim(text);
    if (text.empty() || (text.back() != 'x' && text.back() != 'X')) return std::nullopt;
    text.remove_suffix(1);
    const auto factor = take_number(text);
    if (!factor || !text.empty() || !(*factor >= 1.0) || *factor > 1000.0) return std::nullopt;
    return LimitCeiling::multiple(*factor);
}

// MemoryMaxCeiling= and CPUQuotaCeiling=, in [Recovery] and in a unit's
// [Unit]: the same rules for both.
template <typename Settings, typename Field>
auto memory_ceiling_rule(Field field) {
    return [field](Settings& settings, std::string_view value) -> Problem {
        if (const auto multiple = parse_ceiling_multiple(value)) {
            field(settings) = *multiple;
            return std::nullopt;
        }
        const auto parsed = parse_size(value);
        if (!parsed || (*parsed && **parsed == 0))
            return std::string("must be a multiple of the unit's limit like 2x, a size like 512M or 4G, or infinity");
        field(settings) = *parsed ? LimitCeiling::absolute(static_cast<double>(**parsed)) : LimitCeiling::unlimited();
        return std::nullopt;
    };
}

template <typename Settings, typename Field>
auto cpu_ceiling_rule(Field field) {
    return [field](Settings& settings, std::string_view value) -> Problem {
        if (const auto multiple = parse_ceiling_multiple(value)) {
            field(settings) = *multiple;
            return std::nullopt;
        }
        const auto parsed = parse_cpu_quota(value);
        if (!parsed)
            return std::string("must be a multiple of the unit's quota like 2x, a percentage of one CPU like 200%, "
                               "or infinity");
        field(settings) = *parsed ? LimitCeiling::absolute(**parsed) : LimitCeiling::unlimited();
        return std::nullopt;
    };
}

// An absolute path, or empty for none (the default).
template <typename Field>
auto optional_path(Field field) {
    return [field](Config& config, std::string_view value) -> Problem {
        if (value.empty()) {
            field(config).reset();
            return std::nullopt;
        }
        std::filesystem::path path;
        if (auto problem = set_absolute_path(path, value)) return problem;
        field(config) = path;
        return std::nullopt;
    };
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

Problem set_seed(Config& config, std::string_view value) {
    if (value.empty()) {
        config.simulation.seed.reset();
        return std::nullopt;
    }
    const auto parsed = parse_integer<std::uint64_t>(value);
    if (!parsed)
        return fmt::format("must be a whole number from 0 to {}, or empty for a random seed",
                           std::numeric_limits<std::uint64_t>::max());
    config.simulation.seed = parsed;
    return std::nullopt;
}

// Each assignment starts from the defaults, so the last one says every chance
// it changes; an empty one restores them.
Problem set_heal_chances(Config& config, std::string_view value) {
    HealChances chances = kDefaultHealChances;
    ActionSet named;
    for (const std::string_view word : split_words(value)) {
        const std::size_t colon = word.find(':');
        const auto action = parse_action(word.substr(0, colon));
        if (!action)
            return fmt::format("'{}' does not start with an action (restart, scale_up, rollback, do_nothing)", word);
        if (colon == std::string_view::npos)
            return fmt::format("'{}' has no chance: write ACTION:CHANCE, like restart:0.7", word);
        const auto chance = parse_real(word.substr(colon + 1));
        if (!chance || *chance < 0.0 || *chance > 1.0)
            return fmt::format("'{}': the chance must be a number from 0 to 1", word);
        const auto index = static_cast<std::size_t>(*action);
        if (named.test(index)) return fmt::format("'{}' names {} a second time", word, to_string(*action));
        named.set(index);
        chances[index] = *chance;
    }
    config.simulation.heal_chances = chances;
    return std::nullopt;
}

Problem set_mode(Config& config, std::string_view value) {
    if (value == "active") {
        config.mode = RecoveryMode::active;
    } else if (value == "shadow") {
        config.mode = RecoveryMode::shadow;
    } else {
        return std::string("must be active or shadow");
    }
    return std::nullopt;
}

// StableSec= in [Recovery] and in a unit's [Unit]: the same rule for both.
template <typename Settings, typename Field>
auto stable_rule(Field field) {
    return [field](Settings& settings, std::string_view value) -> Problem {
        std::chrono::seconds stable{};
        const auto parse = timespan([&stable](Settings&) -> auto& { return stable; }, 1s, 24h,
                                    "of whole seconds, from 1s to 1d");
        if (auto problem = parse(settings, value)) return problem;
        field(settings) = stable;
        return std::nullopt;
    };
}

// Runs a parser that throws std::invalid_argument: its message is the Problem.
template <typename Parse>
Problem refusal_of(Parse&& parse) {
    try {
        parse();
    } catch (const std::invalid_argument& error) {
        return std::string(error.what());
    }
    return std::nullopt;
}

// A time span stored as seconds in a double, within [low, high].
template <typename Field>
auto seconds(Field field, std::chrono::microseconds low, std::chrono::microseconds high, std::string_view range_text) {
    return [=](auto& config, std::string_view value) -> Problem {
        std::chrono::microseconds parsed{};
        const auto parse = timespan([&parsed](auto&) -> auto& { return parsed; }, low, high, range_text);
        if (auto problem = parse(config, value)) return problem;
        field(config) = std::chrono::duration<double>(parsed).count();
        return std::nullopt;
    };
}

Problem set_signals(DetectionConfig& detection, std::string_view value) {
    return refusal_of([&] { detection.signals = parse_signal_list(value); });
}

Problem set_max_gap(DetectionConfig& detection, std::string_view value) {
    double gap = 0.0;
    const auto parse = seconds([&gap](DetectionConfig&) -> auto& { return gap; }, std::chrono::microseconds(100ms),
                               std::chrono::microseconds(1h), "from 100ms to 1h");
    if (auto problem = parse(detection, value)) return problem;
    detection.set_max_gap_sec(gap);
    return std::nullopt;
}

// Growth per second as a size: "100K" is 100 KiB/s.
Problem set_trend_min_slope(DetectionConfig& detection, std::string_view value) {
    const auto parsed = parse_size(value);
    if (!parsed || !*parsed || **parsed == 0) return std::string("must be a size per second like 100K or 1M");
    detection.memory_leak.trend_min_slope_bytes_per_sec = static_cast<double>(**parsed);
    return std::nullopt;
}

template <typename Field>
auto pressure_line(Field field) {
    return [=](DetectionConfig& detection, std::string_view value) -> Problem {
        if (value == "some")
            field(detection) = PressureLine::some;
        else if (value == "full")
            field(detection) = PressureLine::full;
        else
            return std::string("must be some or full");
        return std::nullopt;
    };
}

// The keys of one pressure signal's section.
void add_pressure_rules(std::vector<KeyRule<DetectionConfig>>& rules, std::string_view section,
                        PressureConfig DetectionConfig::*member) {
    const auto config = [member](DetectionConfig& d) -> PressureConfig& { return d.*member; };
    rules.push_back({section, "Limit",
                     real([=](DetectionConfig& d) -> auto& { return config(d).limit_percent; }, 0.0, 100.0,
                          "(percent of time stalled) from 0 to 100")});
    rules.push_back({section, "Line", pressure_line([=](DetectionConfig& d) -> auto& { return config(d).line; })});
    rules.push_back({section, "ForSec",
                     seconds([=](DetectionConfig& d) -> auto& { return config(d).for_sec; }, 0s, 24h,
                             "from 0 to 1d")});
}

// Every key of the detection sections, in documentation order. The main
// file and units.d/ files share them: a unit's file overrides the main one's.
const std::vector<KeyRule<DetectionConfig>>& detection_key_rules() {
    using D = DetectionConfig;
    constexpr auto hour = std::chrono::microseconds(3600s);
    constexpr auto week = std::chrono::microseconds(std::chrono::hours(24 * 7));
    static const std::vector<KeyRule<D>> rules = [&] {
        const auto anomaly_seconds = [&](double AnomalyConfig::*member, std::chrono::microseconds low,
                                         std::chrono::microseconds high, std::string_view text) {
            return [=](D& d, std::string_view value) -> Problem {
                const auto set = seconds([member](D& t) -> auto& { return t.cpu_anomaly.*member; }, low, high, text);
                if (auto problem = set(d, value)) return problem;
                d.memory_anomaly.*member = d.cpu_anomaly.*member;
                return std::nullopt;
            };
        };
        const auto anomaly_real = [&](double AnomalyConfig::*member, double low, double high, std::string_view text) {
            return [=](D& d, std::string_view value) -> Problem {
                const auto set = real([member](D& t) -> auto& { return t.cpu_anomaly.*member; }, low, high, text);
                if (auto problem = set(d, value)) return problem;
                d.memory_anomaly.*member = d.cpu_anomaly.*member;
                return std::nullopt;
            };
        };
        std::vector<KeyRule<D>> all = {
            {"Detection", "Signals", set_signals},
            {"Detection", "InactiveForSec",
             seconds([](D& d) -> auto& { return d.inactive_for_sec; }, 0s, hour, "from 0 to 1h")},
            {"Detection", "MaxGapSec", set_max_gap},

            {"CpuSaturation", "ForSec",
             seconds([](D& d) -> auto& { return d.cpu_saturation.for_sec; }, 0s, 24h, "from 0 to 1d")},
            {"CpuSaturation", "SaturationPercent",
             real([](D& d) -> auto& { return d.cpu_saturation.saturation_percent; }, 1.0, 100.0,
                  "(percent of capacity) from 1 to 100")},
            {"CpuSaturation", "BaselineSec",
             seconds([](D& d) -> auto& { return d.cpu_saturation.baseline_sec; }, 10s, week, "from 10s to 1w")},
            {"CpuSaturation", "BaselineMinSec",
             seconds([](D& d) -> auto& { return d.cpu_saturation.baseline_min_sec; }, 10s, week,
                     "from 10s to 1w")},

            {"MemoryLeak", "ForSec",
             seconds([](D& d) -> auto& { return d.memory_leak.for_sec; }, 0s, 24h, "from 0 to 1d")},
            {"MemoryLeak", "PredictHorizonSec",
             seconds([](D& d) -> auto& { return d.memory_leak.predict_horizon_sec; }, 1s, week, "from 1s to 1w")},
            {"MemoryLeak", "TrendWindowSec",
             seconds([](D& d) -> auto& { return d.memory_leak.trend_window_sec; }, 1s, 24h, "from 1s to 1d")},
            {"MemoryLeak", "TrendPointSec",
             seconds([](D& d) -> auto& { return d.memory_leak.trend_point_sec; }, std::chrono::microseconds(100ms),
                     hour, "from 100ms to 1h")},
            {"MemoryLeak", "TrendMinPoints",
             integer<std::size_t>([](D& d) -> auto& { return d.memory_leak.trend_min_points; }, 3, 10000)},
            {"MemoryLeak", "TrendMinSlope", set_trend_min_slope},
            {"MemoryLeak", "TrendConsistency",
             real([](D& d) -> auto& { return d.memory_leak.trend_consistency; }, 0.5, 1.0, "from 0.5 to 1")},

            {"CrashLoop", "Restarts",
             integer<std::size_t>([](D& d) -> auto& { return d.crash_loop.restarts; }, 1, 1000)},
            {"CrashLoop", "WindowSec",
             seconds([](D& d) -> auto& { return d.crash_loop.window_sec; }, 1s, 24h, "from 1s to 1d")},

            {"Anomaly", "FalseAlarmsPerWeek",
             anomaly_real(&AnomalyConfig::false_alarms_per_week, 0.001, 10000.0, "from 0.001 to 10000")},
            {"Anomaly", "ForSec", anomaly_seconds(&AnomalyConfig::for_sec, 0s, 24h, "from 0 to 1d")},
            {"Anomaly", "SummarySec", anomaly_seconds(&AnomalyConfig::summary_sec, 1s, hour, "from 1s to 1h")},
            {"Anomaly", "HistorySec", anomaly_seconds(&AnomalyConfig::history_sec, 60s, 4 * week, "from 1min to 4w")},
            {"Anomaly", "HistoryMinSec",
             anomaly_seconds(&AnomalyConfig::history_min_sec, 0s, 4 * week, "from 0 to 4w")},
            {"Anomaly", "RelearnSec", anomaly_seconds(&AnomalyConfig::relearn_sec, 60s, week, "from 1min to 1w")},
            {"Anomaly", "MinDeviation",
             anomaly_real(&AnomalyConfig::min_deviation, 0.0, 100.0, "(percentage points) from 0 to 100")},

            {"Detector", "Window",
             integer<std::size_t>([](D& d) -> auto& { return d.original.window; }, 2, 100000)},
            {"Detector", "K", real([](D& d) -> auto& { return d.original.k; }, 0.0, 100.0, "from 0 to 100")},
            {"Detector", "MinSamples",
             integer<std::size_t>([](D& d) -> auto& { return d.original.min_samples; }, 2, 100000)},
            {"Detector", "WarmupThreshold",
             real([](D& d) -> auto& { return d.original.warmup_threshold; }, 0.0, 10000.0,
                  "(percent) from 0 to 10000")},
            {"Detector", "Consecutive",
             integer<std::size_t>([](D& d) -> auto& { return d.original.consecutive; }, 1, 10000)},
            {"Detector", "Floor",
             real([](D& d) -> auto& { return d.original.floor; }, 0.0, 10000.0, "(percent) from 0 to 10000")},
            {"Detector", "MemoryCeiling",
             real([](D& d) -> auto& { return d.original.memory_ceiling; }, 1.0, 10000.0,
                  "(percent) from 1 to 10000")},
            {"Detector", "RelearnAfter",
             integer<std::size_t>([](D& d) -> auto& { return d.original.relearn_after; }, 0, 1000000)},
        };
        add_pressure_rules(all, "MemoryPressure", &D::memory_pressure);
        add_pressure_rules(all, "CPUPressure", &D::cpu_pressure);
        add_pressure_rules(all, "IOPressure", &D::io_pressure);
        return all;
    }();
    return rules;
}

// The detection keys as main-file rules: they set Config::detection.
std::vector<KeyRule<Config>> main_detection_rules() {
    std::vector<KeyRule<Config>> rules;
    for (const KeyRule<DetectionConfig>& rule : detection_key_rules())
        rules.push_back({rule.section, rule.key,
                         [set = rule.set](Config& c, std::string_view value) { return set(c.detection, value); }});
    return rules;
}

// The detection keys in a units.d/ file: checked on their own when read,
// kept to be applied over the main file's settings (Config::detection_of).
std::vector<KeyRule<UnitSettings>> unit_detection_rules() {
    std::vector<KeyRule<UnitSettings>> rules;
    for (const KeyRule<DetectionConfig>& rule : detection_key_rules())
        rules.push_back({rule.section, rule.key, [&rule](UnitSettings& u, std::string_view value) -> Problem {
                             DetectionConfig scratch;
                             if (auto problem = rule.set(scratch, value)) return problem;
                             u.detection.push_back({std::string(rule.section), std::string(rule.key),
                                                    std::string(value)});
                             return std::nullopt;
                         }});
    return rules;
}

const std::vector<KeyRule<Config>>& key_rules() {
    constexpr auto hour = std::chrono::microseconds(3600s);
    constexpr auto ten_years = std::chrono::microseconds(std::chrono::hours(24 * 3650));
    static const std::vector<KeyRule<Config>> rules = [&] {
    std::vector<KeyRule<Config>> all = {
        {"Monitor", "SampleIntervalSec",
         timespan([](Config& c) -> auto& { return c.sample_interval; }, 100ms, hour, "from 100ms to 1h")},
        {"Monitor", "Units", set_units},

        {"Recovery", "AutoRecover", boolean([](Config& c) -> auto& { return c.auto_recover; })},
        {"Recovery", "AllowedActions", action_list([](Config& c) -> auto& { return c.allowed_actions; })},
        {"Recovery", "RecoveryTimeoutSec",
         timespan([](Config& c) -> auto& { return c.recovery_timeout; }, 100ms, hour, "from 100ms to 1h")},
        {"Recovery", "CircuitBreakerBurst",
         integer<std::uint32_t>([](Config& c) -> auto& { return c.circuit_breaker_burst; }, 1, 1000)},
        {"Recovery", "CircuitBreakerIntervalSec",
         timespan([](Config& c) -> auto& { return c.circuit_breaker_interval; }, 0s, ten_years,
                  "of whole seconds (0 turns the breaker off)")},
        {"Recovery", "StableSec", stable_rule<Config>([](Config& c) -> auto& { return c.incident.stable; })},
        {"Recovery", "BackoffSec",
         timespan([](Config& c) -> auto& { return c.incident.backoff.initial; }, 0s, hour,
                  "of whole seconds, from 0 to 1h")},
        {"Recovery", "BackoffMaxSec",
         timespan([](Config& c) -> auto& { return c.incident.backoff.max; }, 0s, 24h,
                  "of whole seconds, from 0 to 1d")},
        {"Recovery", "MaxAttempts",
         integer<std::uint32_t>([](Config& c) -> auto& { return c.incident.max_attempts; }, 1, 100)},
        {"Recovery", "Mode", set_mode},
        {"Recovery", "ScaleUpFactor",
         real([](Config& c) -> auto& { return c.backend.scale_up_factor; }, 1.01, 100.0,
              "above 1 (at least 1.01) and at most 100")},
        {"Recovery", "ScaleUpExpireSec",
         timespan([](Config& c) -> auto& { return c.scale_up_expire; }, 0s, ten_years, "of whole seconds")},
        {"Recovery", "MemoryMaxCeiling",
         memory_ceiling_rule<Config>([](Config& c) -> auto& { return c.backend.ceilings.memory; })},
        {"Recovery", "CPUQuotaCeiling",
         cpu_ceiling_rule<Config>([](Config& c) -> auto& { return c.backend.ceilings.cpu_quota; })},
        {"Recovery", "RollbackHook",
         [](Config& c, std::string_view v) { return set_absolute_path(c.backend.rollback_hook, v); }},
        {"Recovery", "RollbackTimeoutSec",
         timespan([](Config& c) -> auto& { return c.backend.rollback_timeout; }, 1s, 24h,
                  "of whole seconds, from 1s to 1d")},
        {"Recovery", "PackageChangeWindowSec",
         timespan([](Config& c) -> auto& { return c.backend.package_change_window; }, 0s, ten_years,
                  "of whole seconds")},
        {"Recovery", "DryRun", boolean([](Config& c) -> auto& { return c.backend.dry_run; })},
        {"Recovery", "OnGiveUp", set_alert_template},

        {"Learning", "RetrainAfter",
         integer<std::uint32_t>([](Config& c) -> auto& { return c.retrain_after; }, 0, 100000)},
        {"Learning", "RetrainEpisodes",
         integer<std::uint32_t>([](Config& c) -> auto& { return c.retrain_episodes; }, 1, 10000)},

        {"Storage", "Path", optional_path([](Config& c) -> auto& { return c.database; })},
        {"Storage", "MaxAgeSec", set_max_age},
        {"Storage", "MaxRows", set_max_rows},
        {"Storage", "WriteIntervalSec",
         timespan([](Config& c) -> auto& { return c.metric_write_interval; }, 0s, hour,
                  "from 0 (every sample) to 1h")},

        {"Export", "PrometheusTextfile", optional_path([](Config& c) -> auto& { return c.prometheus_textfile; })},
        {"Export", "ExportIntervalSec",
         timespan([](Config& c) -> auto& { return c.export_interval; }, 1s, hour,
                  "of whole seconds, from 1s to 1h")},

        {"Simulation", "Seed", set_seed},
        {"Simulation", "HealChance", set_heal_chances},
    };
    const auto detection = main_detection_rules();
    all.insert(all.begin() + 2, detection.begin(), detection.end());  // after [Monitor]
    return all;
    }();
    return rules;
}

// [Probe] Probe=: adds a probe; an empty value clears the list, and a
// repeated one probes once.
Problem add_probe(UnitSettings& settings, std::string_view value) {
    if (value.empty()) {
        settings.probes.clear();
        return std::nullopt;
    }
    return refusal_of([&] {
        const ProbeTarget target = parse_probe_target(value);
        if (std::find(settings.probes.begin(), settings.probes.end(), target) == settings.probes.end())
            settings.probes.push_back(target);
    });
}

// The [Probe] section of units.d files.
std::vector<KeyRule<UnitSettings>> probe_key_rules() {
    const auto options = [](UnitSettings& u) -> auto& { return u.probe_options; };
    return {
        {"Probe", "Probe", add_probe},
        {"Probe", "ProbeIntervalSec",
         timespan([=](UnitSettings& u) -> auto& { return options(u).interval; }, 100ms, 24h, "from 100ms to 1d")},
        {"Probe", "ProbeTimeoutSec",
         timespan([=](UnitSettings& u) -> auto& { return options(u).timeout; }, 10ms, 1h, "from 10ms to 1h")},
        {"Probe", "ProbeFailureThreshold",
         integer<std::uint32_t>([=](UnitSettings& u) -> auto& { return options(u).failure_threshold; }, 1, 1000)},
        {"Probe", "ProbeSuccessThreshold",
         integer<std::uint32_t>([=](UnitSettings& u) -> auto& { return options(u).success_threshold; }, 1, 1000)},
        {"Probe", "ProbeInitialDelaySec",
         timespan([=](UnitSettings& u) -> auto& { return options(u).initial_delay; }, 0s, 24h, "from 0 to 1d")},
        {"Probe", "ProbeExpectStatus",
         [](UnitSettings& u, std::string_view value) {
             return refusal_of([&] { u.probe_options.expect = parse_status_range(value); });
         }},
    };
}

const std::vector<KeyRule<UnitSettings>>& unit_key_rules() {
    static const std::vector<KeyRule<UnitSettings>> rules = [] {
        std::vector<KeyRule<UnitSettings>> all = {
            {"Unit", "AllowFaultInjection",
             boolean([](UnitSettings& u) -> auto& { return u.allow_fault_injection; })},
            {"Unit", "StableSec", stable_rule<UnitSettings>([](UnitSettings& u) -> auto& { return u.stable; })},
            {"Unit", "AllowedActions",
             action_list([](UnitSettings& u) -> std::optional<ActionSet>& { return u.allowed_actions; })},
            {"Unit", "MemoryMaxCeiling",
             memory_ceiling_rule<UnitSettings>([](UnitSettings& u) -> auto& { return u.memory_max_ceiling; })},
            {"Unit", "CPUQuotaCeiling",
             cpu_ceiling_rule<UnitSettings>([](UnitSettings& u) -> auto& { return u.cpu_quota_ceiling; })},
        };
        const auto probe = probe_key_rules();
        all.insert(all.end(), probe.begin(), probe.end());
        const auto detection = unit_detection_rules();
        all.insert(all.end(), detection.begin(), detection.end());
        return all;
    }();
    return rules;
}

// Every detector holds its Window of samples (8-byte doubles) from the
// start, one per metric of each target: this keeps them to 64 MiB in all.
constexpr std::size_t kDetectorSampleBudget = std::size_t{8} << 20;
// The Monitor's detectors per target (the machine and each unit): CPU, memory.
constexpr std::size_t kMetricsPerTarget = 2;

// Settings that only make sense together, checked once every file is applied.
void check_combination(const Config& config, const std::filesystem::path& main_file,
                       const std::filesystem::path& last_file) {
    const AdaptiveDetectorConfig& d = config.detection.original;
    if (d.min_samples > d.window)
        throw ConfigError(last_file, 0,
                          fmt::format("[Detector] MinSamples={} is larger than Window={}", d.min_samples, d.window));
    if (d.relearn_after != 0 && d.relearn_after < d.consecutive)
        throw ConfigError(last_file, 0,
                          fmt::format("[Detector] RelearnAfter={} must be 0 or at least Consecutive={}",
                                      d.relearn_after, d.consecutive));
    // Each unit's settings are the main file's with its own on top: both must make sense together.
    for (const std::string& unit : config.units) {
        try {
            config.detection_of(unit).validate();
        } catch (const std::invalid_argument& e) {
            const std::filesystem::path file = config.unit_settings.count(unit) != 0
                                                   ? unit_settings_directory(main_file) / (unit + ".conf")
                                                   : last_file;
            throw ConfigError(file, 0, fmt::format("the detection settings of {} do not fit together: {}", unit,
                                                   e.what()));
        }
    }
    try {
        config.detection.validate();
    } catch (const std::invalid_argument& e) {
        throw ConfigError(last_file, 0, fmt::format("the detection settings do not fit together: {}", e.what()));
    }
    if (config.incident.backoff.max < config.incident.backoff.initial)
        throw ConfigError(last_file, 0,
                          fmt::format("[Recovery] BackoffMaxSec={}s is shorter than BackoffSec={}s",
                                      config.incident.backoff.max.count(), config.incident.backoff.initial.count()));
    // Window is at most 100000 and each unit costs bytes of a file, so this
    // product cannot overflow.
    const std::size_t samples = d.window * (config.units.size() + 1) * kMetricsPerTarget;
    if (samples > kDetectorSampleBudget)
        throw ConfigError(
            last_file, 0,
            fmt::format("[Detector] Window={} for the machine and {} units keeps {} samples ({} MiB); at most {} "
                        "({} MiB) are allowed: lower Window= or watch fewer Units=",
                        d.window, config.units.size(), samples, samples * sizeof(double) >> 20,
                        kDetectorSampleBudget, kDetectorSampleBudget * sizeof(double) >> 20));
}

// The longest line accepted: far beyond any real Units= list (64 KiB holds
// thousands of units); a longer one is a mistake, not a setting.
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;

// One `Key=Value` line of a file, trimmed; views into the file's content.
struct Assignment {
    int line;
    std::string_view section;
    std::string_view key;
    std::string_view value;
};

// systemd's unit-file syntax: `[Section]` lines, `Key=Value` lines,
// comments on lines whose first non-blank character is '#' or ';', blank
// lines; whitespace around keys and values is dropped. Calls `assign` for
// each assignment in order and throws ConfigError for the first line that
// is none of these.
template <typename Assign>
void parse_unit_file_syntax(const std::filesystem::path& file, std::string_view content, Assign&& assign) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    const auto strip = [&](std::string_view text) {
        while (!text.empty() && space(text.front())) text.remove_prefix(1);
        while (!text.empty() && space(text.back())) text.remove_suffix(1);
        return text;
    };
    std::string_view section;
    int number = 0;
    while (!content.empty()) {
        const std::size_t newline = content.find('\n');
        std::string_view line = content.substr(0, newline);
        content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
        ++number;
        const auto fail = [&](const std::string& message) { return ConfigError(file, number, message); };
        if (line.size() > kMaxLineBytes) throw fail("line too long (more than 1 MiB)");
        line = strip(line);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        // systemd would join the next line on; healerd does not, and says so
        // rather than reading half a value.
        if (line.back() == '\\')
            throw fail("continuation lines (ending in '\\') are not supported: put the value on one line");
        if (line.front() == '[') {
            if (line.size() < 3 || line.back() != ']' || line.find_first_of("[]", 1) != line.size() - 1)
                throw fail("syntax error: expected [Section] or Key=Value");
            section = line.substr(1, line.size() - 2);
            continue;
        }
        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos) {
            if (line.find(':') != std::string_view::npos)
                throw fail("syntax error: expected [Section] or Key=Value ('Key: value' is not systemd's syntax)");
            throw fail("syntax error: expected [Section] or Key=Value");
        }
        const std::string_view key = strip(line.substr(0, equals));
        if (key.empty()) throw fail("syntax error: expected [Section] or Key=Value");
        assign(Assignment{number, section, key, strip(line.substr(equals + 1))});
    }
}

// What stat() says a path is, for a message.
std::string_view file_kind(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a file";
}

// The content of a regular file (or a symlink to one). Anything else is
// refused before it is read: a FIFO would block until written to, a device
// might never end. O_NONBLOCK keeps even the open of a FIFO swapped in
// after the stat from blocking, and fstat re-checks what was opened.
std::string read_whole_file(const std::filesystem::path& file) {
    const auto fail = [&](std::string_view reason) {
        return ConfigError(file, 0, fmt::format("cannot read: {}", reason));
    };
    const auto refuse = [&](mode_t mode) {
        return fail(fmt::format("{}, not a regular file", file_kind(mode)));
    };
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) throw fail(std::strerror(errno));
    if (!S_ISREG(info.st_mode)) throw refuse(info.st_mode);
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw fail(std::strerror(errno));
    std::string content;
    const auto give_up = [&](ConfigError error) {
        close(fd);
        return error;
    };
    if (fstat(fd, &info) != 0) throw give_up(fail(std::strerror(errno)));
    if (!S_ISREG(info.st_mode)) throw give_up(refuse(info.st_mode));
    char buffer[65536];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw give_up(fail(std::strerror(errno)));
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    return content;
}

// Applies every assignment in `file` through `rules` to a copy of `target`,
// which takes the result only if the whole file is good.
template <typename Target>
void apply_file(const std::vector<KeyRule<Target>>& rules, Target& target, const std::filesystem::path& file) {
    const std::string content = read_whole_file(file);
    if (content.find('\0') != std::string::npos) throw ConfigError(file, 0, "is not a text file (contains NUL bytes)");
    Target candidate = target;  // a bad file changes nothing
    parse_unit_file_syntax(file, content, [&](const Assignment& a) {
        const auto fail = [&](const std::string& message) { return ConfigError(file, a.line, message); };
        if (a.section.empty()) throw fail(fmt::format("key {} is outside any section", a.key));
        const bool known_section = std::any_of(rules.begin(), rules.end(),
                                               [&](const KeyRule<Target>& rule) { return rule.section == a.section; });
        if (!known_section) throw fail(fmt::format("unknown section [{}] (key {})", a.section, a.key));
        const auto rule = std::find_if(rules.begin(), rules.end(), [&](const KeyRule<Target>& r) {
            return r.section == a.section && r.key == a.key;
        });
        if (rule == rules.end()) throw fail(fmt::format("unknown key {} in section [{}]", a.key, a.section));
        if (const Problem problem = rule->set(candidate, a.value))
            throw fail(fmt::format("[{}] {}={}: {}", a.section, a.key, a.value, *problem));
    });
    target = std::move(candidate);
}

// What is at `path` without following a final symlink; nullopt when nothing
// is. Any other failure (a looping path, no permission) is a ConfigError.
std::optional<mode_t> entry_type(const std::filesystem::path& path) {
    struct stat info {};
    if (lstat(path.c_str(), &info) == 0) return info.st_mode;
    if (errno == ENOENT) return std::nullopt;
    throw ConfigError(path, 0, fmt::format("cannot read: {}", std::strerror(errno)));
}

// The names in `directory`, sorted as systemd orders drop-ins (bytewise);
// none when it does not exist. A directory that is something else, or that
// cannot be listed, is a ConfigError naming it.
std::vector<std::string> list_directory(const std::filesystem::path& directory) {
    if (!entry_type(directory)) return {};
    struct stat info {};
    if (stat(directory.c_str(), &info) != 0)
        throw ConfigError(directory, 0, fmt::format("cannot read: {}", std::strerror(errno)));
    if (!S_ISDIR(info.st_mode))
        throw ConfigError(directory, 0, fmt::format("cannot list: {}, not a directory", file_kind(info.st_mode)));
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(directory, ec);
    for (const std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    if (ec) throw ConfigError(directory, 0, fmt::format("cannot list: {}", ec.message()));
    std::sort(names.begin(), names.end());
    return names;
}

// The `*.conf` drop-ins of `directory` in order. Every one is applied, so
// one that is not a regular file (a directory named x.conf included) is
// refused when it is read, not skipped.
std::vector<std::filesystem::path> drop_ins_in(const std::filesystem::path& directory) {
    std::vector<std::filesystem::path> files;
    for (const std::string& name : list_directory(directory))
        if (std::filesystem::path(name).extension() == ".conf") files.push_back(directory / name);
    return files;
}

// units.d/: NAME.conf and NAME.conf.d/*.conf for each unit NAME, in that
// order; a file or directory whose NAME is not a unit name is refused.
std::map<std::string, UnitSettings, std::less<>> load_unit_settings(const std::filesystem::path& directory) {
    std::map<std::string, UnitSettings, std::less<>> settings;
    for (const std::string& name : list_directory(directory)) {
        std::string_view unit = name;
        if (unit.ends_with(".conf.d")) unit.remove_suffix(2);
        if (!unit.ends_with(".conf")) continue;
        unit.remove_suffix(5);
        if (!valid_unit_name(unit))
            throw ConfigError(directory / name, 0,
                              fmt::format("'{}' is not a unit name (like nginx.service): name the file after the unit",
                                          unit));
        // NAME.conf and NAME.conf.d both lead here; the first one read does both.
        if (settings.count(unit) != 0) continue;
        UnitSettings& unit_settings = settings[std::string(unit)];
        const std::filesystem::path main = directory / (std::string(unit) + ".conf");
        if (entry_type(main)) apply_file(unit_key_rules(), unit_settings, main);
        for (const auto& drop_in : drop_ins_in(drop_in_directory(main)))
            apply_file(unit_key_rules(), unit_settings, drop_in);
    }
    return settings;
}

}  // namespace

DetectionConfig Config::detection_of(std::string_view unit) const {
    DetectionConfig resolved = detection;
    const auto& rules = detection_key_rules();
    for (const DetectionAssignment& a : settings_of(unit).detection) {
        const auto rule = std::find_if(rules.begin(), rules.end(), [&](const KeyRule<DetectionConfig>& r) {
            return r.section == a.section && r.key == a.key;
        });
        // Checked when the file was read, so it is known and its value good.
        if (rule != rules.end()) rule->set(resolved, a.value);
    }
    return resolved;
}

void apply_config_file(Config& config, const std::filesystem::path& file) { apply_file(key_rules(), config, file); }

std::optional<std::string> set_detector_key(AdaptiveDetectorConfig& detector, std::string_view key,
                                            std::string_view value) {
    const auto& rules = detection_key_rules();
    const auto rule = std::find_if(rules.begin(), rules.end(), [&](const KeyRule<DetectionConfig>& r) {
        return r.section == "Detector" && r.key == key;
    });
    if (rule == rules.end()) throw std::invalid_argument(fmt::format("[Detector] has no key {}", key));
    DetectionConfig detection;
    detection.original = detector;
    if (Problem problem = rule->set(detection, value)) return problem;
    detector = detection.original;
    return std::nullopt;
}

namespace {

template <typename Target>
std::vector<std::pair<std::string_view, std::string_view>> keys_of(const std::vector<KeyRule<Target>>& rules) {
    std::vector<std::pair<std::string_view, std::string_view>> keys;
    for (const KeyRule<Target>& rule : rules) keys.emplace_back(rule.section, rule.key);
    return keys;
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> config_keys() { return keys_of(key_rules()); }

std::vector<std::pair<std::string_view, std::string_view>> unit_config_keys() { return keys_of(unit_key_rules()); }

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
    if (entry_type(main_file))
        apply_config_file(config, main_file);
    else if (main_required)
        throw ConfigError(main_file, 0, "does not exist");
    for (const auto& drop_in : drop_ins_in(drop_in_directory(main_file))) {
        apply_config_file(config, drop_in);
        last_file = drop_in;
    }
    config.unit_settings = load_unit_settings(unit_settings_directory(main_file));
    check_combination(config, main_file, last_file);
    return config;
}

namespace {

std::filesystem::path user_directory(const char* xdg_variable, const char* fallback_below_home) {
    if (const char* xdg = std::getenv(xdg_variable); xdg && *xdg) return std::filesystem::path(xdg) / "healerd";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/") / fallback_below_home / "healerd";
}

}  // namespace

std::filesystem::path default_config_path(bool user) {
    return user ? user_directory("XDG_CONFIG_HOME", ".config") / "healerd.conf"
                : std::filesystem::path("/etc/healerd/healerd.conf");
}

std::filesystem::path default_state_directory(bool user) {
    return user ? user_directory("XDG_STATE_HOME", ".local/state") : std::filesystem::path("/var/lib/healerd");
}

std::filesystem::path database_path(const Config& config, const std::filesystem::path& state_directory) {
    return config.database.value_or(state_directory / "healerd.db");
}

}  // namespace heal
