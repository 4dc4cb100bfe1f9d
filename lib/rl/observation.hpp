#pragma once
// What the policy sees when a failure is detected. The first three features
// are the original design's state; the rest tell failure kinds apart.
#include <array>
#include <optional>

#include "core/action.hpp"

namespace heal {

struct Observation {
    double cpu_percent = 0.0;
    double memory_percent = 0.0;
    int failure_count = 0;          // recent failures of this unit / machine
    bool cpu_anomalous = false;
    bool memory_anomalous = false;
    bool unit_active = true;        // false when the unit died
    bool recent_package_change = false;

    // The incident so far, so a policy can learn a ladder rather than repeat
    // what just failed. All zero / empty before the incident's first attempt.
    int attempts = 0;                   // attempts already made in this incident
    std::optional<Action> last_action;  // the latest of them
    bool last_relapsed = false;         // it healed for a while, then the failure came back
    double seconds_open = 0.0;          // since the incident opened
    int relapses = 0;                   // times the incident reopened after seeming healed
};

inline constexpr int kObservationSize = 15;
using ObservationVector = std::array<float, kObservationSize>;

// [cpu/100, memory/100, min(failures,10)/10, cpu_anom, mem_anom, unit_down, pkg_change,
//  min(attempts,5)/5, last_action one-hot (4, all 0 when none), last_relapsed,
//  min(seconds_open,600)/600, min(relapses,5)/5]; every feature in [0, 1].
ObservationVector encode(const Observation& obs);

}  // namespace heal
