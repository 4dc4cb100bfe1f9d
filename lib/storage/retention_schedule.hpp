#pragma once
// When the daemon applies retention: every `every`, and also after each
// tenth of MaxRows= rows inserted since the last run, so fast sampling cannot
// take a table far past MaxRows= between two runs (at most about 10 %).
#include <chrono>
#include <cstdint>
#include <optional>

#include "storage/store.hpp"

namespace heal {

class RetentionSchedule {
public:
    using Clock = std::chrono::steady_clock;

    explicit RetentionSchedule(Clock::duration every) : every_(every) {}

    // `rows_added` is Store::rows_added(). Due at once before the first run
    // and after reset().
    bool due(const Retention& retention, Clock::time_point now, std::int64_t rows_added) const;
    void ran(Clock::time_point now, std::int64_t rows_added);
    void reset() { last_run_.reset(); }

private:
    Clock::duration every_;
    std::optional<Clock::time_point> last_run_;
    std::int64_t rows_at_last_run_ = 0;
};

}  // namespace heal
