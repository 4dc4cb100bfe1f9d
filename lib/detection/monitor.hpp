#pragma once
// Detection over the metric stream: per target (the machine and each watched
// unit) the signals its DetectionConfig names (detection_config.hpp), plus a
// unit's state and its health probes, and the health state every target is in.
//
// A signal enters failure when its verdict says so (it has held for its
// ForSec=) and leaves it when it stops firing. A signal that needs
// corroboration (the anomaly likelihood) enters failure only while another
// signal of the same target is firing or a probe is failing. A unit that is
// not running, and was not stopped on purpose, fails once that has lasted
// InactiveForSec=; a running unit fails while one of its health probes is
// failing (the probe's own thresholds make that a verdict). A target is
// failed while any of these is.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detection/detection_config.hpp"
#include "detection/target_reading.hpp"
#include "detection/verdict.hpp"
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
    bool cpu_anomalous = false;     // a CPU signal is firing
    bool memory_anomalous = false;  // a memory signal is firing
    bool crash_looping = false;     // its crash_loop signal is a failure
    std::vector<ProbeReading> probes;  // as last read; judged only while the unit runs
    std::uint32_t failure_count = 0;   // times the target entered failure
    // The latest judgement of each of its signals: metric "cpu_saturation"
    // (the machine) or "unit:NAME:cpu_saturation", anomalous while firing.
    std::vector<Verdict> verdicts;
    bool observed = false;             // a reading has arrived since it was watched

    // The policy's view of this target: not active while it does not run or
    // is in a crash loop; package changes come from the UnitProbe, so they
    // are left at "unchanged".
    Observation observation() const;
    // For operators: "unknown" (no reading yet), "failed", "stopped" (on
    // purpose: no action), "down" (not running, not yet a failure) or "healthy".
    std::string_view state() const;
};

// A signal that entered failure on this tick.
struct FailureEvent {
    std::string unit;
    std::string metric;  // "cpu", "memory", "io", "active" or "probe"
    std::string signal;  // "cpu_saturation", "memory_leak", ..., "active" or "probe"
    double value = 0.0;
    double threshold = 0.0;
    double held_sec = 0.0;  // how long the condition had held
    std::string reason;
};

// What the monitor knows of the machine: its CPUs and RAM (0 when unknown).
struct MachineShape {
    unsigned cpus = 1;
    std::uint64_t memory_bytes = 0;
};

// Each target's detection settings, by unit name ("" for the machine).
using DetectionOf = std::function<DetectionConfig(const std::string& unit)>;

class Monitor {
public:
    // Each config must be valid (std::invalid_argument otherwise).
    Monitor(const std::vector<std::string>& units, const DetectionOf& detection, MachineShape machine);
    ~Monitor();
    Monitor(Monitor&&) noexcept;
    Monitor& operator=(Monitor&&) noexcept;

    // Judges one tick's readings taken at `now` (as readings_from produces
    // them; readings of unwatched units are ignored) and returns the signals
    // that entered failure.
    std::vector<FailureEvent> observe(const std::vector<TargetReading>& readings, SteadyTime now);

    // The latest judgement of every target, the machine first. With a CPU
    // or memory (%) given, the machine's signals judge its latest reading
    // with those values as if it were the next tick, on copies: nothing is
    // recorded.
    std::vector<Verdict> peek(std::optional<double> cpu, std::optional<double> memory) const;

    // The machine first, then the units in configuration order.
    const std::vector<TargetStatus>& targets() const;
    const TargetStatus* target(const std::string& unit) const;
    bool healthy() const;
    std::uint32_t failure_count() const;  // over all targets

    // Watches a new set of units. A target still watched with the same
    // settings keeps its history; one whose settings changed starts over.
    void reconfigure(const std::vector<std::string>& units, const DetectionOf& detection);

private:
    struct Target;
    MachineShape machine_;
    std::vector<std::unique_ptr<Target>> state_;
    std::vector<TargetStatus> status_;  // mirrors state_, kept for callers
};

// What a reading stores beyond CPU and memory, for replays of the history.
ReadingDetail detail_of(const TargetReading& reading);

// The rows one tick stores: a record per reading of a watched target, in the
// readings' order, Failed while the monitor has that target in failure;
// memory without a reading is stored as 0.
std::vector<MetricRecord> metric_records(const std::vector<TargetReading>& readings, const Monitor& monitor,
                                         TimePoint time);

}  // namespace heal
