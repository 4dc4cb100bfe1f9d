#pragma once
// Signal "cpu_saturation": a target's CPU pinned at its capacity for ForSec
// while its own baseline is lower. Capacity is the unit's CPUQuota= when it
// has one; an unlimited unit can use every CPU, so its capacity is one full
// core per CPU (a single-threaded unit at 100 % of one core on a bigger
// machine is busy, not saturated: if it starves, its cpu.pressure says so);
// the machine's CPU is a % of all CPUs, so its capacity is 100 %.
//
// The baseline is the median of 10-second CPU means over the last
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
};

class CpuSaturationDetector final : public SignalDetector {
public:
    explicit CpuSaturationDetector(CpuSaturationConfig config);  // validates it
    std::string_view name() const override { return "cpu_saturation"; }
    SignalVerdict observe(const SignalInput& input) override;

private:
    double baseline_percent() const;  // median of the closed baseline buckets

    CpuSaturationConfig config_;
    SustainedCondition pinned_;
    BucketMeans baseline_;
};

}  // namespace heal
