#include "recovery/circuit_breaker.hpp"

namespace heal {

CircuitBreaker::CircuitBreaker(std::uint32_t burst, std::chrono::seconds interval)
    : burst_(burst), interval_(interval) {}

void CircuitBreaker::forget_old(std::deque<Time>& failures, Time now) const {
    while (!failures.empty() && failures.front() + interval_ <= now) failures.pop_front();
}

std::optional<CircuitBreaker::Time> CircuitBreaker::open_until(const std::string& unit, Time now) {
    if (interval_.count() == 0) return std::nullopt;
    const auto it = failures_.find(unit);
    if (it == failures_.end()) return std::nullopt;
    forget_old(it->second, now);
    if (it->second.size() < burst_) return std::nullopt;
    // Open until enough failures have aged out to fall below the burst.
    return it->second[it->second.size() - burst_] + interval_;
}

void CircuitBreaker::record(const std::string& unit, bool recovered, Time now) {
    if (recovered) {
        failures_.erase(unit);
        return;
    }
    auto& failures = failures_[unit];
    failures.push_back(now);
    forget_old(failures, now);
}

void CircuitBreaker::reconfigure(std::uint32_t burst, std::chrono::seconds interval) {
    burst_ = burst;
    interval_ = interval;
}

std::vector<CircuitBreaker::Change> CircuitBreaker::changes(Time now) {
    std::vector<Change> changes;
    std::set<std::string> open;
    for (auto& [unit, failures] : failures_)
        if (open_until(unit, now)) open.insert(unit);
    for (const std::string& unit : open)
        if (!reported_open_.contains(unit)) changes.push_back({unit, true});
    for (const std::string& unit : reported_open_)
        if (!open.contains(unit)) changes.push_back({unit, false});
    reported_open_ = std::move(open);
    return changes;
}

}  // namespace heal
