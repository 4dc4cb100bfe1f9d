#pragma once
// Signal "memory_leak": predicted exhaustion of a target's memory limit
// (MemoryMax, else MemoryHigh, else the machine's RAM).
//
// The memory is averaged into TrendPointSec points, the last TrendWindowSec
// of them kept. Over the newest TrendMinPoints points, then twice as many,
// and so on up to all of them, the first scale whose trend is meaningful is
// used: at least TrendConsistency of its point pairs rise, and their
// Theil–Sen slope (the median of the pairwise slopes, which ignores spikes)
// is at least TrendMinSlope. Short scales follow a fast leak at once, and a
// flat history does not dilute a leak that has just begun; long ones see a
// slow leak through noise; a scale across a GC collection's drop is not
// consistent. The time left is the distance from the fitted line's level now
// to the limit, over the slope.
//
// Firing: the predicted time left is within PredictHorizonSec. Failure: it
// has been firing for ForSec, or for as long as the predicted time left if
// that is shorter (waiting longer than the time left would make the
// prediction worthless). So growth must last as long as the way it has left
// to go, about half of it: one GC cycle's ramp (100 to 200 MiB in 30 s under
// 300 MiB) ends before, and a climb that decelerates toward a plateau (a
// cache warming up) keeps pushing its predicted exhaustion further out, so
// it never catches up with that wait. Memory at or above the limit is a
// failure at once.
//
// Cost per tick: at most TrendWindowSec / TrendPointSec + 1 points (121 by
// default) are kept; the scales together compute at most about 12 000
// pairwise slopes (a scratch of at most 7 300 doubles, reused) for the
// defaults, in the worst case of no meaningful trend at any scale.
#include <string_view>
#include <vector>

#include "detection/bucket_means.hpp"
#include "detection/signal.hpp"
#include "detection/sustained.hpp"

namespace heal {

struct MemoryExhaustionConfig {
    double for_sec = 300.0;               // ForSec=: longest wait for sustained growth
    double predict_horizon_sec = 300.0;   // PredictHorizonSec=
    double trend_window_sec = 120.0;      // TrendWindowSec=: span of the points kept
    double trend_point_sec = 1.0;         // TrendPointSec=: readings are averaged into points this wide
    std::size_t trend_min_points = 5;     // TrendMinPoints=: the shortest scale
    double trend_min_slope_bytes_per_sec = 100.0 * 1024;  // TrendMinSlope=: slower growth is not a leak
    double trend_consistency = 0.8;       // TrendConsistency=: share of point pairs that must rise
    double max_gap_sec = 5.0;             // MaxGapSec=: readings further apart break ForSec

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const MemoryExhaustionConfig&) const = default;
};

class MemoryExhaustionDetector final : public SignalDetector {
public:
    explicit MemoryExhaustionDetector(MemoryExhaustionConfig config);  // validates it
    std::string_view name() const override { return "memory_leak"; }
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<MemoryExhaustionDetector>(*this); }

private:
    struct Trend {
        double slope = 0.0;  // bytes per second
        double level = 0.0;  // bytes, on the fitted line now
    };
    // The trend of the shortest meaningful scale, if any.
    std::optional<Trend> trend(SteadyTime now);
    std::optional<Trend> fit(std::size_t newest, SteadyTime now);

    MemoryExhaustionConfig config_;
    SustainedCondition growing_;
    BucketMeans points_;
    std::vector<double> scratch_;  // pairwise slopes, then residuals
};

}  // namespace heal
