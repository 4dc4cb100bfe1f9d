#include "detection/sustained.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

double seconds_between(SteadyTime from, SteadyTime to) {
    return std::chrono::duration<double>(to - from).count();
}

}  // namespace

void validate_sustained(double for_sec, double max_gap_sec) {
    if (!(std::isfinite(for_sec) && for_sec >= 0.0))
        throw std::invalid_argument(fmt::format("for_sec must be a finite number >= 0 (got {})", for_sec));
    if (!(std::isfinite(max_gap_sec) && max_gap_sec > 0.0))
        throw std::invalid_argument(fmt::format("max_gap_sec must be a finite number > 0 (got {})", max_gap_sec));
}

SustainedCondition::SustainedCondition(double for_sec, double max_gap_sec)
    : for_sec_(for_sec), max_gap_sec_(max_gap_sec) {
    validate_sustained(for_sec, max_gap_sec);
}

void SustainedCondition::observe(SteadyTime time, bool holds) {
    if (last_) {
        const double gap = seconds_between(*last_, time);
        if (gap < 0.0 || gap > max_gap_sec_) since_.reset();
    }
    last_ = time;
    if (!holds) {
        since_.reset();
    } else if (!since_) {
        since_ = time;
    }
}

void SustainedCondition::interrupt() {
    since_.reset();
    last_.reset();
}

double SustainedCondition::held_sec() const {
    return since_ ? seconds_between(*since_, *last_) : 0.0;
}

}  // namespace heal
