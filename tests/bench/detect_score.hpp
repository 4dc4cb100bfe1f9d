#pragma once
// How heal-bench detect scores a detector on a labelled trace corpus.
//
// A fault window is a maximal run of one unit's ticks carrying the same
// non-empty label; it runs from its first labelled tick (start) to its last
// (end). It is detected when that unit enters failure (a FailureEvent for
// it, any signal) at a tick t with start <= t <= end + grace: the grace
// lets a signal that needs its ForSec= finish, and a probe that lags its
// label, count. Its delay is the first such event's t - start.
//
// Every FailureEvent is one entry of one signal into failure (two signals
// entering together are two events). An event within some window + grace of
// its own unit is a true event; any other, the machine's always included
// (it is never labelled), is a false alarm.
//   precision = true events / all events
//   recall    = detected windows / windows
//   false_alarms_per_unit_day = false alarms / (healthy target-seconds / 86400),
//     healthy target-seconds = every target's unlabelled ticks (the machine's
//     included) x the tick interval.
// Delay percentiles are nearest-rank (the value at rank ceil(p x n)).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "trace_corpus.hpp"

namespace heal::bench {

struct FaultWindow {
    std::string unit;
    std::string label;
    double start = 0.0;  // t of its first labelled tick
    double end = 0.0;    // t of its last
};

// The corpus' windows, ordered by start (then unit).
std::vector<FaultWindow> fault_windows(const std::vector<TraceTick>& ticks);

// A signal of `unit` ("" = the machine) entering failure at tick t.
struct DetectionEvent {
    double t = 0.0;
    std::string unit;
    std::string signal;  // FailureEvent::signal: "cpu_saturation", ..., "active", "probe"
};

struct WindowResult {
    FaultWindow window;
    std::optional<double> detected_at;  // t of the first event in it
    std::string signal;                 // that event's signal
    std::optional<double> delay() const {
        return detected_at ? std::optional<double>(*detected_at - window.start) : std::nullopt;
    }
};

struct DetectionScore {
    std::vector<WindowResult> windows;
    std::size_t events = 0;
    std::size_t true_events = 0;
    std::vector<DetectionEvent> false_alarms;
    double healthy_target_seconds = 0.0;
    // Absent when there is nothing to divide by (no event, window, detection
    // or healthy tick).
    std::optional<double> precision;
    std::optional<double> recall;
    std::optional<double> delay_median_s;
    std::optional<double> delay_p95_s;
    std::optional<double> false_alarms_per_unit_day;
};

inline constexpr double kDefaultGraceSec = 30.0;

// Scores `events` against the labels of `ticks`. The tick interval is the
// mean spacing of the ticks (1 s for a single tick).
DetectionScore score_detection(const std::vector<TraceTick>& ticks, const std::vector<DetectionEvent>& events,
                               double grace_sec = kDefaultGraceSec);

// The nearest-rank percentile p (0 < p <= 1) of `values`; absent when empty.
std::optional<double> nearest_rank(std::vector<double> values, double p);

}  // namespace heal::bench
