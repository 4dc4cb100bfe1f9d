#pragma once
// A Prometheus alert's `for:`: a condition counts as a failure only once it
// has held without a break for ForSec. Fed (time, condition) at every tick,
// it knows since when the condition has held.
//
// A break is a tick where the condition does not hold, a missing reading
// (interrupt()), or two readings further apart than max_gap: nobody knows
// what happened in between, so the condition starts over rather than being
// credited with time it was not seen to hold. Time going backwards is a
// break too.
#include <optional>

#include "detection/signal.hpp"

namespace heal {

// Throws std::invalid_argument naming the field ("for_sec" or
// "max_gap_sec") unless for_sec >= 0 and max_gap_sec > 0, both finite.
void validate_sustained(double for_sec, double max_gap_sec);

class SustainedCondition {
public:
    SustainedCondition(double for_sec, double max_gap_sec);  // validated as above

    void observe(SteadyTime time, bool holds);
    void interrupt();  // a missing reading: the condition starts over

    bool holding() const { return since_.has_value(); }
    std::optional<SteadyTime> since() const { return since_; }
    // From the first tick of the current run to the latest one; 0 when not holding.
    double held_sec() const;
    // Holding for at least `for_sec` (the configured ForSec, or a shorter
    // one the caller has reason to use).
    bool met() const { return met(for_sec_); }
    bool met(double for_sec) const { return holding() && held_sec() >= for_sec; }
    double for_sec() const { return for_sec_; }

private:
    double for_sec_;
    double max_gap_sec_;
    std::optional<SteadyTime> since_;
    std::optional<SteadyTime> last_;
};

}  // namespace heal
