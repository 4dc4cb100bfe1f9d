#include "detection/original_signal.hpp"

#include <fmt/core.h>

#include <limits>
#include <string>

namespace heal {

OriginalDetector::OriginalDetector(SignalMetric metric, AdaptiveDetectorConfig config)
    : metric_(metric),
      detector_(std::string{to_string(metric)}, config),
      // It counts samples, however far apart: no gap breaks its streak.
      anomalous_(0.0, std::numeric_limits<double>::max()) {}

SignalVerdict OriginalDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = std::string{name()};
    const auto value = metric_value(input, metric_);
    if (!value) {
        anomalous_.interrupt();
        verdict.reason = fmt::format("{} of {} is not judged: no reading", to_string(metric_), target_name(input));
        return verdict;
    }
    const Verdict judged = detector_.observe(*value);
    anomalous_.observe(input.time, judged.anomalous);
    verdict.value = judged.value;
    verdict.threshold = judged.threshold;
    verdict.firing = judged.anomalous;
    verdict.failure = judged.failure;
    verdict.held_sec = anomalous_.held_sec();
    verdict.reason = fmt::format("{}: {}", target_name(input), judged.reason);
    if (metric_ == SignalMetric::memory && *value >= detector_.config().memory_ceiling) {
        // At the limit whatever the window has learned: a leak's ramp can look like its baseline.
        verdict.threshold = detector_.config().memory_ceiling;
        verdict.firing = verdict.failure = true;
        verdict.reason = fmt::format("memory of {} {:.1f}% is at or above the {:.1f}% ceiling: at its memory limit",
                                     target_name(input), *value, verdict.threshold);
    }
    return verdict;
}

}  // namespace heal
