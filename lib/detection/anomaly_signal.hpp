#pragma once
// Signal "anomaly": a target's CPU or memory unusually high for itself, with
// a false-alarm rate the operator chooses.
//
// Every SummarySec (60 s) the mean of the metric over that span is a
// summary; the last HistorySec (6 h) of learned summaries are kept (360
// numbers). When a summary closes it is judged against that history:
//   - u is its 90th percentile and p_u the share above u (about 0.1); the
//     excesses over u are fitted with a generalized Pareto tail, whose shape
//     ξ and scale σ come from their mean and variance (ξ kept in [0, 0.45]:
//     a bounded tail is taken as exponential, which errs toward alarms):
//     a summary exceeds x > u with chance p_u · (1 + ξ (x − u) / σ)^(−1/ξ).
//     Peaks over a threshold describe the extremes whatever the bulk does,
//     and extrapolate past what 6 h of data can show;
//   - a week holds W = 604 800 / SummarySec summaries, so the threshold is
//     the x whose chance is FalseAlarmsPerWeek / W:
//         u + σ / ξ · ((p_u · W / FalseAlarmsPerWeek)^ξ − 1)
//     (u + σ · ln(p_u · W / FalseAlarmsPerWeek) when ξ = 0); under the fitted
//     distribution the signal starts firing about FalseAlarmsPerWeek times a
//     week, and a failure, which must be sustained ForSec, is rarer still;
//   - never below the median + MinDeviation, so a flat metric's noise is
//     not an anomaly.
// The likelihood is 1 − that chance for the judged summary. Only high values
// are anomalous. The summaries of an anomaly are held back from the history
// until it ends: an anomaly that never became a failure was the tail being
// itself and is learned (leaving it out would thin the tail and raise the
// alarm rate); one that became a failure is not the norm and is dropped; one
// that lasts RelearnSec (30 min) is a new level and is learned from then on,
// so a level shift becomes the new normal about RelearnSec after it began.
//
// The verdict holds between summaries: firing while the last judged
// summary was above the threshold, a failure once that has lasted ForSec.
// An anomaly alone is not evidence of failure: its verdict carries
// needs_corroboration, and the monitor acts on it only while another signal
// of the same target is firing.
//
// Cost: O(1) per tick; O(HistorySec / SummarySec) when a summary closes.
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "detection/bucket_means.hpp"
#include "detection/signal.hpp"
#include "detection/sustained.hpp"

namespace heal {

struct AnomalyConfig {
    SignalMetric metric = SignalMetric::cpu;  // memory: % of MemoryMax, else MemoryHigh, else RAM
    double false_alarms_per_week = 1.0;  // FalseAlarmsPerWeek=
    double for_sec = 300.0;              // ForSec=
    double summary_sec = 60.0;           // SummarySec=
    double history_sec = 6 * 3600.0;     // HistorySec=
    double history_min_sec = 3600.0;     // HistoryMinSec=: no judgement before this much history
    double relearn_sec = 1800.0;         // RelearnSec=: an anomaly this long is learned as the new level
    double min_deviation = 5.0;          // MinDeviation=: percentage points above the median
    double max_gap_sec = 5.0;            // MaxGapSec=: readings further apart break ForSec

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const AnomalyConfig&) const = default;
};

class AnomalyDetector final : public SignalDetector {
public:
    explicit AnomalyDetector(AnomalyConfig config);  // validates it
    std::string_view name() const override { return "anomaly"; }
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<AnomalyDetector>(*this); }

private:
    struct Judgement {
        double value = 0.0;      // the summary judged
        double threshold = 0.0;
        double median = 0.0;     // of the history
        double likelihood = 0.0;
        double per_week = 0.0;   // summaries this high expected per week
        bool anomalous = false;
    };
    Judgement judge(double summary);
    // Learns a judged summary, or holds it back while an anomaly runs.
    void learn(const BucketMeans::Bucket& summary);
    // Ends the anomaly run held back: learned unless it was a failure.
    void settle_run();
    void remember(const BucketMeans::Bucket& summary);
    double history_sec() const;

    AnomalyConfig config_;
    SustainedCondition anomalous_;
    BucketMeans summaries_;                     // the open summary
    std::deque<BucketMeans::Bucket> history_;  // the summaries learned, oldest first
    std::vector<BucketMeans::Bucket> run_;     // the current anomaly's summaries, held back
    bool run_failed_ = false;                  // the current anomaly has been a failure
    std::optional<Judgement> last_;
    std::vector<double> scratch_;  // the history's values while judging
};

}  // namespace heal
