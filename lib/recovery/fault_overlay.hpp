#pragma once
// Injected faults, laid over the metric stream. SimulateFailure's synthetic
// kind (the original design's "force high CPU/memory") uses it with either
// backend; the simulated backend also keeps its unit faults here and heals
// them. Thread-safe: faults are injected and healed from worker threads and
// applied on the daemon's loop thread.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "recovery/backend.hpp"
#include "detection/target_reading.hpp"

namespace heal {

struct InjectedFault {
    std::optional<FaultMode> mode;  // absent: synthetic (high CPU and memory)
    int samples_left = 0;           // synthetic faults fade; unit faults stay until healed
};

class FaultOverlay {
public:
    // A synthetic fault nobody heals is gone after this many samples, so an
    // unattended daemon does not stay "failed" forever.
    static constexpr int kSyntheticSamples = 60;

    explicit FaultOverlay(std::uint64_t seed);

    // `unit` "" is the whole machine. A new fault replaces the target's old one.
    void inject_synthetic(const std::string& unit);
    void inject(FaultMode mode, const std::string& unit);
    // Removes the target's fault; false when it had none.
    bool heal(const std::string& unit);
    std::optional<InjectedFault> fault(const std::string& unit) const;

    // Rewrites the readings of faulted targets (with a little jitter so the
    // stream looks measured) and counts synthetic faults down by one sample.
    void apply(std::vector<TargetReading>& readings);

private:
    mutable std::mutex mutex_;
    std::map<std::string, InjectedFault> faults_;
    std::mt19937_64 rng_;
};

}  // namespace heal
