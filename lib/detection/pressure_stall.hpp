#pragma once
// Signals "cpu_pressure", "memory_pressure" and "io_pressure": the PSI avg10
// of a target (the unit's cgroup, or the machine's /proc/pressure) above
// PressureLimit= for ForSec, the semantics of systemd-oomd's
// ManagedOOMMemoryPressureLimit= and ManagedOOMMemoryPressureDurationSec=,
// whose defaults (60 %, 30 s) these are. By default the "some" line is
// judged (at least one task stalled), as oomd does; PressureLine=full judges
// the share of time all tasks were stalled at once.
//
// A tick without the PSI figure (no PSI on this kernel, cgroup v1, a unit
// not running) is a missing reading: the condition starts over.
#include <string>
#include <string_view>

#include "detection/signal.hpp"
#include "detection/sustained.hpp"

namespace heal {

enum class PressureResource { cpu, memory, io };
enum class PressureLine { some, full };

struct PressureConfig {
    PressureResource resource = PressureResource::memory;
    PressureLine line = PressureLine::some;  // PressureLine=
    double limit_percent = 60.0;             // PressureLimit=: avg10 above this (%) fires
    double for_sec = 30.0;                   // ForSec=
    double max_gap_sec = 5.0;                // MaxGapSec=

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const PressureConfig&) const = default;
};

class PressureDetector final : public SignalDetector {
public:
    explicit PressureDetector(PressureConfig config);  // validates it
    std::string_view name() const override { return name_; }  // "memory_pressure", ...
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<PressureDetector>(*this); }

private:
    PressureConfig config_;
    std::string name_;
    SustainedCondition stalled_;
};

}  // namespace heal
