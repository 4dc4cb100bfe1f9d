#pragma once
// A long history in bounded memory: the mean of a value over fixed-width time
// buckets, for the last `span` seconds. The CPU baseline, the memory trend
// and the anomaly history are all kept this way, so their cost does not
// depend on how often the daemon samples.
#include <cstddef>
#include <deque>
#include <optional>

#include "detection/signal.hpp"

namespace heal {

class BucketMeans {
public:
    struct Bucket {
        SteadyTime start;   // buckets are aligned to the first value's time
        SteadyTime center;  // the mean time of its values
        double mean = 0.0;
        std::size_t count = 0;
    };

    // Both positive and finite, span >= width (std::invalid_argument).
    BucketMeans(double width_sec, double span_sec);

    // Adds a value to its bucket (time must not go backwards: such a value is
    // ignored) and forgets buckets that started more than `span` before it.
    // Returns the bucket this value closed, if it opened a new one.
    std::optional<Bucket> add(SteadyTime time, double value);
    void clear();

    // Oldest first; the last one is still open (its mean may change).
    const std::deque<Bucket>& buckets() const { return buckets_; }
    std::size_t closed_count() const { return buckets_.empty() ? 0 : buckets_.size() - 1; }
    double width_sec() const { return width_sec_; }
    double span_sec() const { return span_sec_; }
    // At most span / width + 1 buckets are kept.
    std::size_t capacity() const;

private:
    double width_sec_;
    double span_sec_;
    std::optional<SteadyTime> origin_;
    std::deque<Bucket> buckets_;
};

}  // namespace heal
