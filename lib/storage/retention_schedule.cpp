#include "storage/retention_schedule.hpp"

#include <algorithm>

namespace heal {

bool RetentionSchedule::due(const Retention& retention, Clock::time_point now, std::int64_t rows_added) const {
    if (!last_run_ || now - *last_run_ >= every_) return true;
    if (!retention.max_rows) return false;
    const std::int64_t step = std::max<std::int64_t>(1, *retention.max_rows / 10);
    return rows_added - rows_at_last_run_ >= step;
}

void RetentionSchedule::ran(Clock::time_point now, std::int64_t rows_added) {
    last_run_ = now;
    rows_at_last_run_ = rows_added;
}

}  // namespace heal
