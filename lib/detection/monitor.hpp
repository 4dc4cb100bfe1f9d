#pragma once
// Detection over the metric stream: one AdaptiveDetector per watched metric
// (machine CPU and memory, each unit's CPU and memory) plus each unit's
// liveness, and the health state every target is in.
//
// A metric enters failure when its detector says so (the consecutive rule)
// and leaves it at the first value no longer anomalous; a unit that is not
// running fails after the same number of samples in a row; a running unit
// fails while one of its health probes is failing (the probe's own
// thresholds make that a verdict). A target is failed while any of its
// metrics is.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detection/adaptive_detector.hpp"
#include "detection/target_reading.hpp"
#include "rl/observation.hpp"
#include "storage/store.hpp"

namespace heal {

struct TargetStatus {
    std::string unit;                  // "" for the whole machine
    bool present = true;
    bool stopped = false;              // not running, stopped or exited cleanly (not a failure)
    double cpu = 0.0;
    std::optional<double> memory;
    bool failed = false;
    bool cpu_anomalous = false;
    bool memory_anomalous = false;
    std::vector<ProbeReading> probes;  // as last read; judged only while the unit runs
    std::uint32_t failure_count = 0;   // times the target entered failure
    std::vector<Verdict> verdicts;     // the latest judgement of each of its metrics
    bool observed = false;             // a reading has arrived since it was watched

    // The policy's view of this target; unit liveness and package changes
    // come from the UnitProbe, so they are left at "running, unchanged".
    Observation observation() const;
    // For operators: "unknown" (no reading yet), "failed", "stopped" (on
    // purpose: no action), "down" (not running, not yet a failure) or "healthy".
    std::string_view state() const;
};

// A metric that entered failure on this tick.
struct FailureEvent {
    std::string unit;
    std::string metric;  // "cpu", "memory", "active" or "probe"
    double value = 0.0;
    double threshold = 0.0;
    std::string reason;
};

class Monitor {
public:
    Monitor(const std::vector<std::string>& units, const AdaptiveDetectorConfig& detector);
    ~Monitor();
    Monitor(Monitor&&) noexcept;
    Monitor& operator=(Monitor&&) noexcept;

    // Judges one tick's readings (as readings_from produces them; readings of
    // unwatched units are ignored) and returns the metrics that entered failure.
    std::vector<FailureEvent> observe(const std::vector<TargetReading>& readings);

    // Judges values without recording them: the machine's CPU and memory
    // (overridden when given), then each unit at its latest reading.
    std::vector<Verdict> peek(std::optional<double> cpu, std::optional<double> memory) const;

    // The machine first, then the units in configuration order.
    const std::vector<TargetStatus>& targets() const;
    const TargetStatus* target(const std::string& unit) const;
    bool healthy() const;
    std::uint32_t failure_count() const;  // over all targets

    // Watches a new set of units. Targets still watched keep their history
    // unless the detector settings changed, which restarts every detector.
    void reconfigure(const std::vector<std::string>& units, const AdaptiveDetectorConfig& detector);

private:
    struct Target;
    AdaptiveDetectorConfig detector_;
    std::vector<std::unique_ptr<Target>> state_;
    std::vector<TargetStatus> status_;  // mirrors state_, kept for callers
};

// The rows one tick stores: a record per reading of a watched target, in the
// readings' order, Failed while the monitor has that target in failure;
// memory without a reading is stored as 0.
std::vector<MetricRecord> metric_records(const std::vector<TargetReading>& readings, const Monitor& monitor,
                                         TimePoint time);

}  // namespace heal
