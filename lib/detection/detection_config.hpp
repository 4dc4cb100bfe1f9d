#pragma once
// Which signals judge a target, and their settings: healerd.conf's
// [Detection], [CpuSaturation], [MemoryLeak], [MemoryPressure],
// [CPUPressure], [IOPressure], [CrashLoop], [Anomaly] and [Detector] (the original
// design's detector), with a unit's own units.d/ file on top.
//
// Whatever the list, a unit that is not running (InactiveForSec=) and a
// failing health probe are always judged: they are the unit's own word.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detection/adaptive_detector.hpp"
#include "detection/anomaly_signal.hpp"
#include "detection/cpu_saturation.hpp"
#include "detection/crash_loop.hpp"
#include "detection/memory_exhaustion.hpp"
#include "detection/pressure_stall.hpp"
#include "detection/signal.hpp"

namespace heal {

// The signals Signals= can name, in the order verdicts are listed.
enum class SignalKind {
    cpu_saturation,
    memory_leak,
    memory_pressure,
    cpu_pressure,
    io_pressure,
    cpu_anomaly,
    memory_anomaly,
    cpu_original,
    memory_original,
    crash_loop,
};
std::string_view to_string(SignalKind kind);  // "cpu_saturation", ...
// The metric a signal speaks for: "cpu", "memory", "io" or "active".
std::string_view metric_of(SignalKind kind);
// A name Signals= accepts; "original" stands for both original signals, so
// it is parsed by parse_signal_list, not here.
std::optional<SignalKind> parse_signal_kind(std::string_view name);

struct DetectionConfig {
    // Signals=: CPU saturation, predicted memory exhaustion, memory pressure
    // (oomd's default), a crash loop, and the anomaly likelihood of CPU and
    // memory, which alone never acts (it needs another signal of the target
    // firing).
    std::vector<SignalKind> signals = {SignalKind::cpu_saturation, SignalKind::memory_leak,
                                       SignalKind::memory_pressure, SignalKind::crash_loop,
                                       SignalKind::cpu_anomaly,     SignalKind::memory_anomaly};
    // InactiveForSec=: a unit not running (and not stopped on purpose) this
    // long is a failure; long enough for systemd's own Restart= to act first.
    double inactive_for_sec = 2.0;
    CpuSaturationConfig cpu_saturation;
    MemoryExhaustionConfig memory_leak;
    PressureConfig memory_pressure{PressureResource::memory};
    PressureConfig cpu_pressure{PressureResource::cpu};
    PressureConfig io_pressure{PressureResource::io};
    AnomalyConfig cpu_anomaly{SignalMetric::cpu};
    AnomalyConfig memory_anomaly{SignalMetric::memory};
    AdaptiveDetectorConfig original = default_original();
    CrashLoopConfig crash_loop;

    // The original design's detector with healerd's defaults: three samples
    // in a row, so one spike is not a failure.
    static AdaptiveDetectorConfig default_original();

    // MaxGapSec=: one value for every signal.
    void set_max_gap_sec(double seconds);
    bool has(SignalKind kind) const;

    // Throws std::invalid_argument naming the signal and its field.
    void validate() const;
    bool operator==(const DetectionConfig&) const = default;
};

// "cpu_saturation memory_leak original" into kinds, "original" expanding to
// both original signals, duplicates dropped; an empty list is allowed (only
// unit state and probes judge). Throws std::invalid_argument naming the
// first unknown word.
std::vector<SignalKind> parse_signal_list(std::string_view text);

// A detector for each of the config's signals, in its order.
struct NamedDetector {
    SignalKind kind;
    std::unique_ptr<SignalDetector> detector;
};
std::vector<NamedDetector> make_detectors(const DetectionConfig& config);

}  // namespace heal
