#include "time_format.hpp"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "config/config.hpp"
#include "error.hpp"

namespace healctl {

namespace {

constexpr Microseconds kPerSecond = 1'000'000;

std::tm broken_down(Microseconds since_epoch, bool utc) {
    const std::time_t seconds = static_cast<std::time_t>(since_epoch / kPerSecond);
    std::tm tm{};
    if (utc) gmtime_r(&seconds, &tm);
    else localtime_r(&seconds, &tm);
    return tm;
}

}  // namespace

std::string iso8601_utc(Microseconds since_epoch) {
    const std::tm tm = broken_down(since_epoch, true);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, since_epoch % kPerSecond / 1000);
}

std::string iso8601_utc(std::chrono::system_clock::time_point time) { return iso8601_utc(micros(time)); }

std::string local_time(Microseconds since_epoch) {
    const std::tm tm = broken_down(since_epoch, false);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<std::chrono::system_clock::time_point> parse_time_point(std::string_view text,
                                                                      std::chrono::system_clock::time_point now) {
    using std::chrono::system_clock;
    if (text == "now") return now;
    const auto back = [&](std::string_view span) -> std::optional<system_clock::time_point> {
        const auto parsed = heal::parse_timespan(span);
        if (!parsed) return std::nullopt;
        return now - std::chrono::duration_cast<system_clock::duration>(*parsed);
    };
    if (text.starts_with('-')) return back(text.substr(1));
    if (text.ends_with(" ago")) return back(text.substr(0, text.size() - 4));
    if (text.starts_with('@')) {
        std::int64_t seconds = 0;
        const char* end = text.data() + text.size();
        const auto [at, error] = std::from_chars(text.data() + 1, end, seconds);
        if (error != std::errc() || at != end || text.size() == 1) return std::nullopt;
        return system_clock::time_point(std::chrono::seconds(seconds));
    }
    std::tm tm{};
    const std::string copy(text);
    for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
        tm = std::tm{};
        const char* end = strptime(copy.c_str(), format, &tm);
        if (!end || *end != '\0') continue;
        tm.tm_isdst = -1;  // whatever daylight saving time says on that date
        const std::time_t seconds = std::mktime(&tm);
        if (seconds == -1) return std::nullopt;
        return system_clock::from_time_t(seconds);
    }
    return std::nullopt;
}

std::chrono::system_clock::time_point time_argument(const std::string& flag, const std::string& text,
                                                    std::chrono::system_clock::time_point now) {
    const auto time = parse_time_point(text, now);
    if (!time)
        throw CtlError(Exit::usage, fmt::format("{} '{}': not a time (e.g. -7d, \"2h ago\", 2025-01-15, "
                                                "\"2025-01-15 11:30\", @1736937000).",
                                                flag, text));
    return *time;
}

Microseconds micros(std::chrono::system_clock::time_point time) {
    return static_cast<Microseconds>(
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

}  // namespace healctl
