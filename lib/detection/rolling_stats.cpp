#include "detection/rolling_stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heal {

RollingStats::RollingStats(std::size_t capacity) : ring_(capacity) {
    if (capacity == 0) throw std::invalid_argument("RollingStats: capacity must be at least 1");
}

void RollingStats::push(double value) {
    if (count_ < ring_.size()) {
        // Welford's update while the window fills.
        ++count_;
        const double delta = value - mean_;
        mean_ += delta / static_cast<double>(count_);
        m2_ += delta * (value - mean_);
    } else {
        // Sliding Welford: replace the oldest value in one step.
        const double oldest = ring_[next_];
        const double new_mean = mean_ + (value - oldest) / static_cast<double>(count_);
        m2_ += (value - oldest) * (value - new_mean + oldest - mean_);
        mean_ = new_mean;
        ++evictions_since_recompute_;
    }
    ring_[next_] = value;
    next_ = (next_ + 1) % ring_.size();
    // Rounding drifts in the sliding update; a two-pass recompute once per
    // window length keeps it exact at amortised O(1).
    if (evictions_since_recompute_ == ring_.size()) recompute();
    m2_ = std::max(m2_, 0.0);
}

double RollingStats::stddev() const {
    if (count_ == 0) return 0.0;
    return std::sqrt(m2_ / static_cast<double>(count_));
}

void RollingStats::recompute() {
    double sum = 0.0;
    for (std::size_t i = 0; i < count_; ++i) sum += ring_[i];
    mean_ = sum / static_cast<double>(count_);
    m2_ = 0.0;
    for (std::size_t i = 0; i < count_; ++i) m2_ += (ring_[i] - mean_) * (ring_[i] - mean_);
    evictions_since_recompute_ = 0;
}

}  // namespace heal
