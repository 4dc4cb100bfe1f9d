#pragma once
// Signal "original": the original design's AdaptiveDetector (mean + k·σ of
// the last samples, the consecutive rule) behind the signal interface, so
// it stays available by name. Its failure is the AdaptiveDetector's own,
// counted in samples: it has no ForSec of its own (0). Memory at or above
// MemoryCeiling= is a failure at once, as it always was.
#include <string_view>

#include "detection/adaptive_detector.hpp"
#include "detection/signal.hpp"
#include "detection/sustained.hpp"

namespace heal {

class OriginalDetector final : public SignalDetector {
public:
    // Validates the config (std::invalid_argument).
    OriginalDetector(SignalMetric metric, AdaptiveDetectorConfig config);
    std::string_view name() const override { return "original"; }
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<OriginalDetector>(*this); }

private:
    SignalMetric metric_;
    AdaptiveDetector detector_;
    SustainedCondition anomalous_;  // only to report how long it has held
};

}  // namespace heal
