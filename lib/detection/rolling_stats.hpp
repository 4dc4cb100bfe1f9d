#pragma once
// Mean and population standard deviation of the last N values, O(1) per value.
#include <cstddef>
#include <vector>

namespace heal {

class RollingStats {
public:
    // capacity must be at least 1.
    explicit RollingStats(std::size_t capacity);

    // Adds a value, evicting the oldest once the window is full.
    void push(double value);

    std::size_t size() const { return count_; }
    std::size_t capacity() const { return ring_.size(); }
    double mean() const { return mean_; }
    double stddev() const;  // population σ (like numpy.std), 0 when empty

private:
    void recompute();

    std::vector<double> ring_;
    std::size_t next_ = 0;  // slot the next value goes to
    std::size_t count_ = 0;
    double mean_ = 0.0;
    double m2_ = 0.0;  // sum of squared deviations from mean_
    std::size_t evictions_since_recompute_ = 0;
};

}  // namespace heal
