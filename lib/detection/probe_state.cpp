#include "detection/probe_state.hpp"

#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace heal {

std::string_view to_string(ProbeHealth health) {
    switch (health) {
        case ProbeHealth::unknown: return "unknown";
        case ProbeHealth::healthy: return "healthy";
        case ProbeHealth::failing: return "failing";
    }
    return "?";
}

ProbeState::ProbeState(std::uint32_t failure_threshold, std::uint32_t success_threshold)
    : failure_threshold_(failure_threshold), success_threshold_(success_threshold) {
    if (failure_threshold == 0) throw std::invalid_argument("failure_threshold must be at least 1");
    if (success_threshold == 0) throw std::invalid_argument("success_threshold must be at least 1");
}

namespace {

// A probe every 100 ms would wrap a 32-bit count after 13 years: stop short.
std::uint32_t saturating_increment(std::uint32_t count) {
    return count == std::numeric_limits<std::uint32_t>::max() ? count : count + 1;
}

}  // namespace

bool ProbeState::record(ProbeResult result) {
    const ProbeHealth before = health_;
    if (result.success) {
        failures_ = 0;
        successes_ = saturating_increment(successes_);
        if (successes_ >= success_threshold_) health_ = ProbeHealth::healthy;
    } else {
        successes_ = 0;
        failures_ = saturating_increment(failures_);
        if (failures_ >= failure_threshold_) health_ = ProbeHealth::failing;
    }
    last_ = std::move(result);
    return health_ != before;
}

std::string ProbeState::sentence(std::string_view subject) const {
    if (!last_) return fmt::format("{} has not run yet", subject);
    const double ms = static_cast<double>(last_->latency.count()) / 1000.0;
    const std::string after = ms < 1000.0 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.1f} s", ms / 1000.0);
    const std::uint32_t streak = last_->success ? successes_ : failures_;
    const std::string times = streak == 1 ? "once" : fmt::format("{} times in a row", streak);
    if (last_->success) return fmt::format("{} succeeded {} (last after {})", subject, times, after);
    return fmt::format("{} failed {} (last: {} after {})", subject, times, last_->error, after);
}

}  // namespace heal
