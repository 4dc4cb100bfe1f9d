#include "time_format.hpp"

#include <ctime>

#include <fmt/format.h>

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

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
    return iso8601_utc(static_cast<Microseconds>(us.count()));
}

std::string local_time(Microseconds since_epoch) {
    const std::tm tm = broken_down(since_epoch, false);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace healctl
