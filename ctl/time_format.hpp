#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api.hpp"

namespace healctl {

// "2025-01-15T10:30:00.123Z": the JSON form.
std::string iso8601_utc(Microseconds since_epoch);
std::string iso8601_utc(std::chrono::system_clock::time_point time);
// "2025-01-15 11:30:00" in the local time zone: the human form.
std::string local_time(Microseconds since_epoch);

// A point in time as journalctl's --since takes one: "now", a time span
// back from now ("-2h", "7d ago"), a local date ("2025-01-15", midnight)
// or date and time ("2025-01-15 11:30[:00]", also with a T), or
// "@SECONDS" since the epoch. nullopt when the text is none of these.
std::optional<std::chrono::system_clock::time_point> parse_time_point(std::string_view text,
                                                                      std::chrono::system_clock::time_point now);

// parse_time_point, or a usage error naming the option and showing the forms.
std::chrono::system_clock::time_point time_argument(const std::string& flag, const std::string& text,
                                                    std::chrono::system_clock::time_point now);

Microseconds micros(std::chrono::system_clock::time_point time);

}  // namespace healctl
