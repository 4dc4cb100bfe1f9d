#pragma once
// The original design's detector: a value is anomalous above mean + k·σ of a
// rolling window, or above a fixed threshold while the window is warming up.
//
// Baseline policy: a value judged anomalous does NOT enter the window, so a
// spike cannot inflate σ and a sustained failure cannot quietly become "the
// new normal". Only after `relearn_after` anomalous samples in a row (a level
// that nothing brought back down) are values admitted again, so a permanent
// shift is eventually learned instead of reporting failure forever.
// Each value is judged against the window of the values before it.
#include <cstddef>
#include <string>

#include "detection/rolling_stats.hpp"
#include "detection/verdict.hpp"

namespace heal {

struct AdaptiveDetectorConfig {
    std::size_t window = 60;          // samples in the rolling window
    double k = 2.0;                   // standard deviations above the mean
    std::size_t min_samples = 10;     // adaptive mode from this many samples on
    double warmup_threshold = 90.0;   // fixed threshold (%) during warm-up
    std::size_t consecutive = 1;      // anomalous samples in a row before "failure"
    double floor = 50.0;              // never a failure at or below this value (%)
    std::size_t relearn_after = 120;  // anomalous samples in a row after which they
                                      // enter the window again; 0 = never
    double memory_ceiling = 95.0;     // memory at or above this (%) is a failure whatever
                                      // the statistics: the kernel is about to reclaim or
                                      // OOM-kill (a leak's ramp can look like its baseline)

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const AdaptiveDetectorConfig&) const = default;
};

class AdaptiveDetector final : public Detector {
public:
    // Validates the config (std::invalid_argument).
    AdaptiveDetector(std::string metric, AdaptiveDetectorConfig config);
    // Judges and records a value. A non-finite value is reported as not
    // anomalous and is not recorded.
    Verdict observe(double value) override;
    // Judges a value against the current window without recording it; the
    // consecutive rule counts it as if it were the next sample.
    Verdict peek(double value) const;
    const AdaptiveDetectorConfig& config() const { return config_; }
    const std::string& metric() const { return metric_; }

private:
    Verdict judge(double value) const;
    bool relearning(std::size_t streak) const;

    std::string metric_;
    AdaptiveDetectorConfig config_;
    RollingStats baseline_;
    std::size_t streak_ = 0;  // anomalous samples in a row so far
};

}  // namespace heal
