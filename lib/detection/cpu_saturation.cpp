#include "detection/cpu_saturation.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace heal {
namespace {

constexpr double kBaselineBucketSec = 10.0;

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

CpuSaturationConfig validated(CpuSaturationConfig config) {
    config.validate();
    return config;
}

// The cores an unlimited unit can use now: one per runnable thread, at
// least one, at most the machine's.
unsigned usable_cores(const SignalInput& input) {
    return std::clamp(input.runnable_threads, 1u, std::max(input.cpus, 1u));
}

double capacity_percent(const SignalInput& input) {
    if (input.cpu_limit_percent) return *input.cpu_limit_percent;
    return input.unit.empty() ? 100.0 : 100.0 * usable_cores(input);
}

// What a target asks of its CPUs: what it used, or, when a thread of a unit
// was runnable (running, or waiting for a CPU) at the sample, all of its
// capacity. On a contended machine a thread spinning in a loop gets a share
// of a core, yet it is runnable whenever it is looked at; one that does its
// work and waits is caught runnable only now and then.
double demand_percent(const SignalInput& input, double capacity) {
    if (!input.unit.empty() && input.runnable_threads > 0) return std::max(input.cpu_percent, capacity);
    return input.cpu_percent;
}

std::string capacity_text(const SignalInput& input) {
    if (input.cpu_limit_percent) return fmt::format("its CPUQuota {:.1f}%", *input.cpu_limit_percent);
    if (input.unit.empty()) return "all its CPUs";
    const unsigned cores = usable_cores(input);
    return cores == 1 ? std::string("one full core (one runnable thread)")
                      : fmt::format("{} full cores ({} runnable threads)", cores, cores);
}

}  // namespace

void CpuSaturationConfig::validate() const {
    validate_sustained(for_sec, max_gap_sec);
    require(std::isfinite(saturation_percent) && saturation_percent > 0.0 && saturation_percent <= 100.0,
            fmt::format("saturation_percent must be in (0, 100] (got {})", saturation_percent));
    require(std::isfinite(baseline_sec) && baseline_sec >= kBaselineBucketSec,
            fmt::format("baseline_sec must be a finite number >= {} (got {})", kBaselineBucketSec, baseline_sec));
    require(std::isfinite(baseline_min_sec) && baseline_min_sec >= kBaselineBucketSec &&
                baseline_min_sec <= baseline_sec,
            fmt::format("baseline_min_sec must be between {} and baseline_sec ({}) (got {})", kBaselineBucketSec,
                        baseline_sec, baseline_min_sec));
}

CpuSaturationDetector::CpuSaturationDetector(CpuSaturationConfig config)
    : config_(validated(config)),
      pinned_(config_.for_sec, config_.max_gap_sec),
      baseline_(kBaselineBucketSec, config_.baseline_sec) {}

double CpuSaturationDetector::baseline_percent() const {
    const auto& buckets = baseline_.buckets();
    std::vector<double> means;
    means.reserve(baseline_.closed_count());
    for (std::size_t i = 0; i < baseline_.closed_count(); ++i) means.push_back(buckets[i].mean);
    const auto middle = means.begin() + static_cast<std::ptrdiff_t>(means.size() / 2);
    std::nth_element(means.begin(), middle, means.end());
    return *middle;
}

SignalVerdict CpuSaturationDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = std::string{name()};
    verdict.value = input.cpu_percent;
    const std::string target = target_name(input);
    if (!input.present || !std::isfinite(input.cpu_percent)) {
        // A unit that is not running has no CPU to judge; when it is back
        // its old baseline still describes it.
        pinned_.interrupt();
        verdict.reason = fmt::format("cpu of {} is not judged: no reading", target);
        return verdict;
    }

    const double capacity = capacity_percent(input);
    const double demand = demand_percent(input, capacity);
    verdict.value = demand;
    verdict.threshold = config_.saturation_percent / 100.0 * capacity;
    const bool pinned = demand >= verdict.threshold;
    const bool baseline_known =
        static_cast<double>(baseline_.closed_count()) * kBaselineBucketSec >= config_.baseline_min_sec;
    const double baseline = baseline_known ? baseline_percent() : 0.0;
    verdict.firing = pinned && baseline_known && baseline < verdict.threshold;
    pinned_.observe(input.time, verdict.firing);
    if (!verdict.firing) baseline_.add(input.time, demand);
    verdict.held_sec = pinned_.held_sec();
    verdict.failure = pinned_.met();

    std::string usage = fmt::format("cpu of {} {:.1f}%", target, input.cpu_percent);
    if (demand > input.cpu_percent)
        usage += fmt::format(" (demand {:.1f}%: {} runnable, running or waiting for a CPU)", demand,
                             input.runnable_threads == 1 ? std::string("1 thread")
                                                         : fmt::format("{} threads", input.runnable_threads));
    if (!pinned) {
        verdict.reason = fmt::format("{} is below {:.1f}%, {:.0f}% of {}", usage, verdict.threshold,
                                     config_.saturation_percent, capacity_text(input));
    } else if (!baseline_known) {
        verdict.reason = fmt::format("{} is pinned at {} but its baseline is still being learned", usage,
                                     capacity_text(input));
    } else if (!verdict.firing) {
        verdict.reason = fmt::format("{} is pinned at {}, as usual: its baseline is {:.1f}%", usage,
                                     capacity_text(input), baseline);
    } else {
        verdict.reason = fmt::format("{} has been pinned at or above {:.1f}% ({:.0f}% of {}) for {:.0f} s, "
                                     "above its baseline {:.1f}%{}",
                                     usage, verdict.threshold, config_.saturation_percent, capacity_text(input),
                                     verdict.held_sec, baseline,
                                     verdict.failure ? "" : fmt::format("; a failure at {:.0f} s", config_.for_sec));
    }
    return verdict;
}

}  // namespace heal
