#pragma once
// What the parts of Service (service*.cpp) share: limits and small
// formatting helpers. Private to the daemon.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/target.hpp"
#include "log.hpp"
#include "service.hpp"

namespace healerd {

using heal::Action;
using heal::target_name;
using RequestCode = RequestError::Code;

constexpr std::uint32_t kMaxLimit = 10000;     // GetMetrics/GetActions rows, Train episodes

// What a caller who may not change state may read of the history (GetMetrics,
// GetActions): a burst of kReadBudgetRows rows, then kReadRefillRows a second.
// A call costs its limit, at least kMinReadCost, so tiny calls in a loop are
// bounded too. Documented in docs/dbus-api.md.
constexpr std::uint32_t kReadBudgetRows = 50000;
constexpr std::uint32_t kReadRefillRows = 10000;
constexpr std::uint32_t kMinReadCost = 100;

inline std::uint64_t random_seed() { return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}(); }

inline std::string format_seconds(double seconds) { return fmt::format("{:.2f}", seconds); }

inline std::vector<LogField> unit_field(const std::string& unit) {
    if (unit.empty()) return {};
    return {LogField{"UNIT", unit}};
}

// For operators: local time, as journalctl shows it.
inline std::string pause_description(const heal::PauseRecord& pause) {
    if (!pause.until) return "until resumed";
    return fmt::format("until {:%Y-%m-%d %H:%M:%S %Z}",
                       fmt::localtime(std::chrono::system_clock::to_time_t(*pause.until)));
}

}  // namespace healerd
