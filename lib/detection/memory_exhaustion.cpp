#include "detection/memory_exhaustion.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// Bounds the Theil–Sen cost (quadratic in the points).
constexpr double kMaxPoints = 240.0;
// A reading under this share of its trend's level ends the growth.
constexpr double kFreedShare = 0.9;

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

MemoryExhaustionConfig validated(MemoryExhaustionConfig config) {
    config.validate();
    return config;
}

double seconds_since(SteadyTime origin, SteadyTime time) {
    return std::chrono::duration<double>(time - origin).count();
}

double median(std::vector<double>& values) {
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

}  // namespace

void MemoryExhaustionConfig::validate() const {
    validate_sustained(for_sec, max_gap_sec);
    require(std::isfinite(predict_horizon_sec) && predict_horizon_sec > 0.0,
            fmt::format("predict_horizon_sec must be a finite number > 0 (got {})", predict_horizon_sec));
    require(std::isfinite(trend_point_sec) && trend_point_sec > 0.0,
            fmt::format("trend_point_sec must be a finite number > 0 (got {})", trend_point_sec));
    require(std::isfinite(trend_window_sec) && trend_window_sec >= trend_point_sec &&
                trend_window_sec / trend_point_sec <= kMaxPoints,
            fmt::format("trend_window_sec must be between trend_point_sec ({}) and {} times it (got {})",
                        trend_point_sec, kMaxPoints, trend_window_sec));
    require(trend_min_points >= 3 && static_cast<double>(trend_min_points) <= trend_window_sec / trend_point_sec,
            fmt::format("trend_min_points must be between 3 and trend_window_sec / trend_point_sec ({}) (got {})",
                        trend_window_sec / trend_point_sec, trend_min_points));
    require(std::isfinite(trend_min_slope_bytes_per_sec) && trend_min_slope_bytes_per_sec > 0.0,
            fmt::format("trend_min_slope_bytes_per_sec must be a finite number > 0 (got {})",
                        trend_min_slope_bytes_per_sec));
    require(std::isfinite(trend_consistency) && trend_consistency > 0.5 && trend_consistency <= 1.0,
            fmt::format("trend_consistency must be in (0.5, 1] (got {})", trend_consistency));
}

MemoryExhaustionDetector::MemoryExhaustionDetector(MemoryExhaustionConfig config)
    : config_(validated(config)),
      growing_(config_.for_sec, config_.max_gap_sec),
      points_(config_.trend_point_sec, config_.trend_window_sec) {}

std::optional<MemoryExhaustionDetector::Trend> MemoryExhaustionDetector::fit(std::size_t newest, SteadyTime now) {
    const auto& all = points_.buckets();
    const auto first = all.end() - static_cast<std::ptrdiff_t>(newest);
    const SteadyTime origin = first->center;

    scratch_.clear();
    // A trend counts only when at least TrendConsistency of its point pairs
    // rise. Counted as the pairs go, since most series (flat, noisy) pass the
    // pairs that may not rise well before all are seen.
    const double pairs = static_cast<double>(newest) * static_cast<double>(newest - 1) / 2.0;
    const double not_rising_allowed = pairs - config_.trend_consistency * pairs;
    std::size_t not_rising = 0;
    for (auto a = first; a != all.end(); ++a) {
        for (auto b = a + 1; b != all.end(); ++b) {
            const double slope = (b->mean - a->mean) / seconds_since(a->center, b->center);
            if (!(slope > 0.0) && static_cast<double>(++not_rising) > not_rising_allowed) return std::nullopt;
            scratch_.push_back(slope);
        }
    }
    const double slope = median(scratch_);
    if (slope < config_.trend_min_slope_bytes_per_sec) return std::nullopt;

    // The line with that slope through the points' median residual.
    scratch_.clear();
    for (auto point = first; point != all.end(); ++point)
        scratch_.push_back(point->mean - slope * seconds_since(origin, point->center));
    return Trend{slope, median(scratch_) + slope * seconds_since(origin, now)};
}

std::optional<MemoryExhaustionDetector::Trend> MemoryExhaustionDetector::trend(SteadyTime now) {
    const std::size_t available = points_.buckets().size();
    for (std::size_t scale = config_.trend_min_points; scale <= available;) {
        if (auto found = fit(scale, now)) return found;
        if (scale == available) break;
        scale = std::min(2 * scale, available);
    }
    return std::nullopt;
}

SignalVerdict MemoryExhaustionDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = std::string{name()};
    const std::string target = target_name(input);
    const auto limit = memory_limit(input);
    if (!input.present || !input.memory_bytes || !limit || limit->bytes == 0) {
        growing_.interrupt();
        points_.clear();
        verdict.reason = fmt::format("memory of {} is not judged: {}", target,
                                     !input.present || !input.memory_bytes ? "no reading" : "no limit is known");
        return verdict;
    }

    const double bytes = static_cast<double>(*input.memory_bytes);
    const double limit_bytes = static_cast<double>(limit->bytes);
    verdict.value = bytes;
    verdict.threshold = limit_bytes;
    points_.add(input.time, bytes);
    const std::string limit_text = fmt::format("its {:.1f} MiB {}", limit_bytes / kMiB, limit->setting);

    if (bytes >= limit_bytes) {
        growing_.observe(input.time, true);
        verdict.firing = verdict.failure = true;
        verdict.held_sec = growing_.held_sec();
        verdict.exhaustion_sec = 0.0;
        verdict.reason = fmt::format("memory of {} {:.1f} MiB is at {}", target, bytes / kMiB, limit_text);
        return verdict;
    }

    const auto found = trend(input.time);
    if (!found) {
        growing_.observe(input.time, false);
        verdict.reason = fmt::format("memory of {} {:.1f} MiB shows no steady growth toward {}", target,
                                     bytes / kMiB, limit_text);
        return verdict;
    }

    if (bytes < kFreedShare * found->level) {
        // Memory well under its own trend was just freed (a GC, a cache
        // shrinking): not leaked. The robust fit sees through a few such
        // readings, so without this a GC's rise would run on past its drop.
        growing_.observe(input.time, false);
        verdict.reason = fmt::format("memory of {} {:.1f} MiB fell under its trend ({:.1f} MiB): freed, not leaked",
                                     target, bytes / kMiB, found->level / kMiB);
        return verdict;
    }
    const double left_sec = std::max(0.0, (limit_bytes - found->level) / found->slope);
    verdict.exhaustion_sec = left_sec;
    verdict.firing = left_sec <= config_.predict_horizon_sec;
    growing_.observe(input.time, verdict.firing);
    verdict.held_sec = growing_.held_sec();
    const double wait_sec = std::min(config_.for_sec, left_sec);
    verdict.failure = growing_.met(wait_sec);

    const std::string prediction = fmt::format("memory of {} grows {:.1f} MiB/s and reaches {} in {:.0f} s", target,
                                               found->slope / kMiB, limit_text, left_sec);
    if (!verdict.firing) {
        verdict.reason = fmt::format("{}, beyond the {:.0f} s horizon", prediction, config_.predict_horizon_sec);
    } else {
        verdict.reason = fmt::format("{}, within the {:.0f} s horizon; growing so for {:.0f} s{}", prediction,
                                     config_.predict_horizon_sec, verdict.held_sec,
                                     verdict.failure ? "" : fmt::format(", a failure at {:.0f} s", wait_sec));
    }
    return verdict;
}

}  // namespace heal
