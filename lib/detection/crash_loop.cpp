#include "detection/crash_loop.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

CrashLoopConfig validated(CrashLoopConfig config) {
    config.validate();
    return config;
}

}  // namespace

void CrashLoopConfig::validate() const {
    if (restarts < 1) throw std::invalid_argument(fmt::format("restarts must be at least 1 (got {})", restarts));
    if (!std::isfinite(window_sec) || window_sec <= 0.0)
        throw std::invalid_argument(fmt::format("window_sec must be a finite number > 0 (got {})", window_sec));
}

CrashLoopDetector::CrashLoopDetector(CrashLoopConfig config) : config_(validated(config)) {}

SignalVerdict CrashLoopDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = std::string{name()};
    verdict.threshold = static_cast<double>(config_.restarts);
    const std::string target = target_name(input);
    if (!input.automatic_restarts) {
        verdict.reason = fmt::format("restarts of {} are not judged: systemd's count of them is not known", target);
        return verdict;
    }
    const std::uint64_t count = *input.automatic_restarts;
    // A smaller count is systemd starting over at a start by hand (an
    // operator's or healerd's restart): the unit's new life has no restarts.
    if (last_count_ && count < *last_count_) restarts_.clear();
    if (last_count_ && count > *last_count_) {
        for (std::uint64_t i = *last_count_; i < count && i - *last_count_ < config_.restarts; ++i) {
            restarts_.push_back(input.time);
            if (restarts_.size() > config_.restarts) restarts_.pop_front();
        }
    }
    last_count_ = count;
    const auto window = std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(config_.window_sec));
    while (!restarts_.empty() && input.time - restarts_.front() > window) restarts_.pop_front();

    verdict.value = static_cast<double>(restarts_.size());
    verdict.firing = !restarts_.empty();
    verdict.failure = restarts_.size() >= config_.restarts;
    verdict.held_sec = verdict.firing ? std::chrono::duration<double>(input.time - restarts_.front()).count() : 0.0;
    if (!verdict.firing) {
        verdict.reason = fmt::format("{} was not restarted by systemd in the last {:.0f} s", target, config_.window_sec);
    } else {
        verdict.reason = fmt::format("{} was restarted by systemd {} time{} in {:.0f} s{}", target, restarts_.size(),
                                     restarts_.size() == 1 ? "" : "s", verdict.held_sec,
                                     verdict.failure ? fmt::format(": a crash loop ({} within {:.0f} s)",
                                                                   config_.restarts, config_.window_sec)
                                                     : fmt::format("; a crash loop at {} within {:.0f} s",
                                                                   config_.restarts, config_.window_sec));
    }
    return verdict;
}

}  // namespace heal
