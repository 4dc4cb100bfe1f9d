#pragma once
// Signal "cpu_saturation": a target's CPU pinned at its capacity for ForSec
// while its own baseline is lower. Capacity is the unit's CPUQuota= when it
// has one; an unlimited unit can use one full core per thread that is
// running or waiting for a CPU (at least one, at most every CPU), so a
// thread spinning in a loop pins its unit at one core however many CPUs the
// machine has, while a unit whose threads share a busy load spreads it; the
// machine's CPU is a % of all CPUs, so its capacity is 100 %.
//
// What is judged is the unit's demand: its CPU use, or all of its capacity
// when a thread of it is runnable (running, or waiting for a CPU) at the
// sample. On a machine whose CPUs are all busy a spinning thread gets only a
// share of a core, 30 % say, but it is runnable at every sample; a service
// that works and waits is caught runnable now and then, never for ForSec in
// a row.
//
// The baseline is the median of 10-second means of the demand over the last
// BaselineSec. Values are admitted to it only while the signal is not
// firing, so a failure that lasts does not become its own baseline; a target
// that runs pinned from its start (a batch job) has a pinned baseline and is
// never saturated by this signal: that is what it does.
#include <string_view>

#include "detection/bucket_means.hpp"
#include "detection/signal.hpp"
#include "detection/sustained.hpp"

namespace heal {

struct CpuSaturationConfig {
    double for_sec = 60.0;              // ForSec=: pinned this long is a failure
    double saturation_percent = 95.0;   // SaturationPercent=: pinned means at or above this % of capacity
    double baseline_sec = 600.0;        // BaselineSec=: span of the baseline
    double baseline_min_sec = 60.0;     // BaselineMinSec=: no judgement before this much baseline
    double max_gap_sec = 5.0;           // MaxGapSec=: readings further apart break ForSec

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const CpuSaturationConfig&) const = default;
};

class CpuSaturationDetector final : public SignalDetector {
public:
    explicit CpuSaturationDetector(CpuSaturationConfig config);  // validates it
    std::string_view name() const override { return "cpu_saturation"; }
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<CpuSaturationDetector>(*this); }

private:
    double baseline_percent() const;  // median of the closed baseline buckets

    CpuSaturationConfig config_;
    SustainedCondition pinned_;
    BucketMeans baseline_;
};

}  // namespace heal
