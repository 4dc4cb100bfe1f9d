#pragma once
// Stops recovering a target that recovery does not help: after `burst`
// failed recoveries within `interval`, the breaker opens and stays open until
// the oldest of those failures leaves the interval. A successful recovery
// closes it. Like systemd's StartLimitBurst=/StartLimitIntervalSec=.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace heal {

class CircuitBreaker {
public:
    using Time = std::chrono::steady_clock::time_point;

    // An interval of 0 turns the breaker off.
    CircuitBreaker(std::uint32_t burst, std::chrono::seconds interval);

    // When the target's breaker is open at `now`, the time it closes.
    std::optional<Time> open_until(const std::string& unit, Time now);
    void record(const std::string& unit, bool recovered, Time now);
    // New limits; failures already counted stay counted.
    void reconfigure(std::uint32_t burst, std::chrono::seconds interval);

    // The breakers that opened or closed since the last call (by a failure, a
    // success, time or new limits), each once, for the journal.
    struct Change {
        std::string unit;
        bool opened = false;  // else closed
        bool operator==(const Change&) const = default;
    };
    std::vector<Change> changes(Time now);

private:
    void forget_old(std::deque<Time>& failures, Time now) const;

    std::uint32_t burst_;
    std::chrono::seconds interval_;
    std::map<std::string, std::deque<Time>> failures_;  // per target, oldest first
    std::set<std::string> reported_open_;                // open as changes() last said
};

}  // namespace heal
