#pragma once
#include <chrono>
#include <string>

#include "api.hpp"

namespace healctl {

// "2025-01-15T10:30:00.123Z": the JSON form.
std::string iso8601_utc(Microseconds since_epoch);
std::string iso8601_utc(std::chrono::system_clock::time_point time);
// "2025-01-15 11:30:00" in the local time zone: the human form.
std::string local_time(Microseconds since_epoch);

}  // namespace healctl
