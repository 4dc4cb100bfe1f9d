#include "detection/anomaly_signal.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

constexpr double kWeekSec = 7 * 24 * 3600.0;
constexpr double kTailQuantile = 0.9;  // u: the tail model fits what lies above it

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

AnomalyConfig validated(AnomalyConfig config) {
    config.validate();
    return config;
}

// The peaks over u, the 90th percentile, as a generalized Pareto tail:
// exceeding x > u has chance p_u · (1 + ξ (x − u) / σ)^(−1/ξ), an
// exponential p_u · exp(−(x − u) / σ) when ξ = 0. ξ and σ come from the
// excesses' mean and variance (method of moments); ξ is kept in [0, 0.45]:
// a bounded tail is treated as exponential (more alarms, never fewer), and
// beyond 0.45 the moments no longer estimate it.
struct Tail {
    double median = 0.0;  // of the whole history, for MinDeviation
    double u = 0.0;
    double p_u = 0.0;    // share of the history above u
    double sigma = 0.0;  // scale
    double xi = 0.0;     // shape

    double chance(double x) const {
        if (sigma <= 0.0) return 0.0;
        const double z = (x - u) / sigma;
        return xi == 0.0 ? p_u * std::exp(-z) : p_u * std::pow(1.0 + xi * z, -1.0 / xi);
    }
    // The x whose chance is `target`: u itself when p_u is not above it.
    double level(double target) const {
        if (p_u <= target) return u;
        const double ratio = p_u / target;
        return xi == 0.0 ? u + sigma * std::log(ratio) : u + sigma / xi * (std::pow(ratio, xi) - 1.0);
    }
};

constexpr double kMaxShape = 0.45;

// Reorders `values` (at least 3): the median first, then u in the half above it.
Tail fit_tail(std::vector<double>& values) {
    Tail tail;
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    tail.median = *middle;
    const auto at = values.begin() + static_cast<std::ptrdiff_t>(kTailQuantile * static_cast<double>(values.size() - 1));
    std::nth_element(middle, at, values.end());
    tail.u = *at;
    double sum = 0.0;
    double sum_squares = 0.0;
    std::size_t above = 0;
    for (auto value = at + 1; value != values.end(); ++value) {
        if (*value <= tail.u) continue;
        const double excess = *value - tail.u;
        sum += excess;
        sum_squares += excess * excess;
        ++above;
    }
    if (above == 0) return tail;
    const double count = static_cast<double>(above);
    const double mean = sum / count;
    const double variance = above > 1 ? (sum_squares - count * mean * mean) / (count - 1.0) : 0.0;
    tail.p_u = count / static_cast<double>(values.size());
    tail.xi = variance > 0.0 ? std::clamp(0.5 * (1.0 - mean * mean / variance), 0.0, kMaxShape) : 0.0;
    tail.sigma = mean * (1.0 - tail.xi);
    return tail;
}

}  // namespace

void AnomalyConfig::validate() const {
    validate_sustained(for_sec, max_gap_sec);
    require(std::isfinite(summary_sec) && summary_sec > 0.0,
            fmt::format("summary_sec must be a finite number > 0 (got {})", summary_sec));
    require(std::isfinite(false_alarms_per_week) && false_alarms_per_week > 0.0 &&
                false_alarms_per_week <= kWeekSec / summary_sec,
            fmt::format("false_alarms_per_week must be > 0 and at most one per summary ({}) (got {})",
                        kWeekSec / summary_sec, false_alarms_per_week));
    require(std::isfinite(history_min_sec) && history_min_sec >= 10 * summary_sec,
            fmt::format("history_min_sec must be at least 10 summaries ({} s) (got {})", 10 * summary_sec,
                        history_min_sec));
    require(std::isfinite(history_sec) && history_sec >= history_min_sec && history_sec / summary_sec <= 100000,
            fmt::format("history_sec must be between history_min_sec ({}) and 100000 summaries (got {})",
                        history_min_sec, history_sec));
    require(std::isfinite(relearn_sec) && relearn_sec >= for_sec,
            fmt::format("relearn_sec must be a finite number >= for_sec ({}) (got {})", for_sec, relearn_sec));
    require(std::isfinite(min_deviation) && min_deviation >= 0.0,
            fmt::format("min_deviation must be a finite number >= 0 (got {})", min_deviation));
}

AnomalyDetector::AnomalyDetector(AnomalyConfig config)
    : config_(validated(config)),
      anomalous_(config_.for_sec, config_.max_gap_sec),
      summaries_(config_.summary_sec, config_.summary_sec) {}

double AnomalyDetector::history_sec() const {
    return static_cast<double>(history_.size()) * config_.summary_sec;
}

void AnomalyDetector::remember(const BucketMeans::Bucket& summary) {
    history_.push_back(summary);
    const auto span = std::chrono::duration<double>(config_.history_sec);
    while (summary.start - history_.front().start >= span) history_.pop_front();
}

void AnomalyDetector::learn(const BucketMeans::Bucket& summary) {
    if (!last_->anomalous) {
        settle_run();
        remember(summary);
        return;
    }
    run_.push_back(summary);
    run_failed_ = run_failed_ || anomalous_.met();
    if (anomalous_.held_sec() < config_.relearn_sec) return;
    run_failed_ = false;  // the new level: learned
    settle_run();
}

void AnomalyDetector::settle_run() {
    if (!run_failed_) {
        for (const auto& summary : run_) remember(summary);
    }
    run_.clear();
    run_failed_ = false;
}

AnomalyDetector::Judgement AnomalyDetector::judge(double summary) {
    scratch_.clear();
    for (const auto& remembered : history_) scratch_.push_back(remembered.mean);

    const Tail tail = fit_tail(scratch_);
    const double per_week_total = kWeekSec / config_.summary_sec;

    Judgement judgement;
    judgement.value = summary;
    judgement.median = tail.median;
    judgement.threshold = std::max(tail.level(config_.false_alarms_per_week / per_week_total),
                                   tail.median + config_.min_deviation);
    // The chance of a summary at least this high: the tail model above u,
    // the share of the history at or above it below.
    const double chance =
        summary > tail.u ? tail.chance(summary)
                         : static_cast<double>(std::count_if(scratch_.begin(), scratch_.end(),
                                                             [summary](double value) { return value >= summary; })) /
                               static_cast<double>(scratch_.size());
    judgement.likelihood = 1.0 - chance;
    judgement.per_week = chance * per_week_total;
    judgement.anomalous = summary > judgement.threshold;
    return judgement;
}

SignalVerdict AnomalyDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = std::string{name()};
    verdict.needs_corroboration = true;
    const std::string figure = fmt::format("{} of {}", to_string(config_.metric), target_name(input));
    const auto value = metric_value(input, config_.metric);
    if (!value || !std::isfinite(*value)) {
        // The history stays: it is still what this target usually does. The
        // open summary does not span the gap.
        settle_run();
        summaries_.clear();
        anomalous_.interrupt();
        last_.reset();
        verdict.reason = fmt::format("{} is not judged: no reading", figure);
        return verdict;
    }

    const auto closed = summaries_.add(input.time, *value);
    const bool judged = closed && history_sec() >= config_.history_min_sec;
    if (judged) last_ = judge(closed->mean);
    anomalous_.observe(input.time, last_ && last_->anomalous);
    if (closed && !judged) remember(*closed);
    if (judged) learn(*closed);
    if (!last_) {
        verdict.value = *value;
        verdict.reason = fmt::format("{} is not judged yet: {:.0f} of {:.0f} s of history", figure, history_sec(),
                                     config_.history_min_sec);
        return verdict;
    }

    verdict.value = last_->value;
    verdict.threshold = last_->threshold;
    verdict.firing = last_->anomalous;
    verdict.held_sec = anomalous_.held_sec();
    verdict.failure = anomalous_.met();
    const std::string basis = fmt::format(
        "{:.1f}%, the level its last {:.1f} h say it would exceed {:g} times a week, and at least its median "
        "{:.1f}% + {:.1f}",
        last_->threshold, history_sec() / 3600.0, config_.false_alarms_per_week, last_->median, config_.min_deviation);
    const std::string summary = fmt::format("{} averaged {:.1f}% over {:.0f} s", figure, last_->value,
                                            config_.summary_sec);
    if (!verdict.firing) {
        verdict.reason = fmt::format("{}, not above {}", summary, basis);
    } else {
        verdict.reason = fmt::format(
            "{}, above {} (this high: about {:.2g} times a week, likelihood {:.6f}); anomalous for {:.0f} s{}; "
            "acted on only while another signal of {} fires",
            summary, basis, last_->per_week, last_->likelihood, verdict.held_sec,
            verdict.failure ? "" : fmt::format(", a failure at {:.0f} s", config_.for_sec), target_name(input));
    }
    return verdict;
}

}  // namespace heal
