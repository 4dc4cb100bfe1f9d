#include "detection/adaptive_detector.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace heal {
namespace {

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

// Renders value and threshold with enough decimals that "a > b" never reads
// as "3.0% > 3.0%".
std::pair<std::string, std::string> percents(double value, double threshold) {
    std::pair<std::string, std::string> out;
    for (int decimals = 1; decimals <= 6; ++decimals) {
        out = {fmt::format("{:.{}f}%", value, decimals), fmt::format("{:.{}f}%", threshold, decimals)};
        if (out.first != out.second || value == threshold) break;
    }
    return out;
}

}  // namespace

void AdaptiveDetectorConfig::validate() const {
    require(window >= 1, fmt::format("window must be at least 1 (got {})", window));
    require(std::isfinite(k) && k >= 0.0, fmt::format("k must be a finite number >= 0 (got {})", k));
    require(min_samples >= 2 && min_samples <= window,
            fmt::format("min_samples must be between 2 and window ({}) (got {})", window, min_samples));
    require(std::isfinite(warmup_threshold),
            fmt::format("warmup_threshold must be a finite number (got {})", warmup_threshold));
    require(consecutive >= 1, fmt::format("consecutive must be at least 1 (got {})", consecutive));
    require(std::isfinite(floor), fmt::format("floor must be a finite number (got {})", floor));
    require(std::isfinite(memory_ceiling) && memory_ceiling > 0.0,
            fmt::format("memory_ceiling must be a finite number > 0 (got {})", memory_ceiling));
    require(relearn_after == 0 || relearn_after >= consecutive,
            fmt::format("relearn_after must be 0 (never) or at least consecutive ({}) (got {})", consecutive,
                        relearn_after));
}

namespace {

AdaptiveDetectorConfig validated(AdaptiveDetectorConfig config) {
    config.validate();
    return config;
}

}  // namespace

AdaptiveDetector::AdaptiveDetector(std::string metric, AdaptiveDetectorConfig config)
    : metric_(std::move(metric)), config_(validated(config)), baseline_(config_.window) {}

bool AdaptiveDetector::relearning(std::size_t streak) const {
    return config_.relearn_after != 0 && streak > config_.relearn_after;
}

Verdict AdaptiveDetector::judge(double value) const {
    Verdict verdict;
    verdict.metric = metric_;
    verdict.value = value;
    if (!std::isfinite(value)) {
        verdict.reason = fmt::format("{} value {} is not a finite number; ignored", metric_, value);
        return verdict;
    }

    const bool warming_up = baseline_.size() < config_.min_samples;
    const double mean = baseline_.mean();
    const double statistical = warming_up ? config_.warmup_threshold : mean + config_.k * baseline_.stddev();
    const bool floor_binds = config_.floor > statistical;
    verdict.threshold = std::max(statistical, config_.floor);
    verdict.anomalous = value > verdict.threshold;
    const std::size_t streak = verdict.anomalous ? streak_ + 1 : 0;
    verdict.failure = verdict.anomalous && streak >= config_.consecutive;

    const auto [value_text, threshold_text] = percents(value, verdict.threshold);
    // A sentence an operator can read in the journal: what was compared with what, and why that threshold.
    const std::string basis =
        warming_up ? fmt::format("the fixed threshold while warming up ({} of {} samples)", baseline_.size(),
                                 config_.min_samples)
                   : fmt::format("the mean {:.1f}% + {:.1f}σ of the last {} samples", mean, config_.k,
                                 baseline_.size());
    const char* relation = verdict.anomalous ? "is above" : "is not above";
    verdict.reason = floor_binds ? fmt::format("{} {} {} the {} floor, which overrides {:.1f}%, {}", metric_,
                                               value_text, relation, threshold_text, statistical, basis)
                                 : fmt::format("{} {} {} {}, {}", metric_, value_text, relation, threshold_text, basis);
    if (verdict.anomalous && config_.consecutive > 1) {
        verdict.reason += verdict.failure
                              ? fmt::format("; {} in a row", streak)
                              : fmt::format("; {} of {} in a row before failure", streak, config_.consecutive);
    }
    if (verdict.anomalous && relearning(streak)) verdict.reason += "; sustained, adopting it as the baseline";
    return verdict;
}

Verdict AdaptiveDetector::observe(double value) {
    Verdict verdict = judge(value);
    if (!std::isfinite(value)) return verdict;
    streak_ = verdict.anomalous ? streak_ + 1 : 0;
    if (!verdict.anomalous || relearning(streak_)) baseline_.push(value);
    return verdict;
}

Verdict AdaptiveDetector::peek(double value) const {
    return judge(value);
}

}  // namespace heal
