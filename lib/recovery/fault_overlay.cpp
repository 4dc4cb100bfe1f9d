#include "recovery/fault_overlay.hpp"

namespace heal {

FaultOverlay::FaultOverlay(std::uint64_t seed) : rng_(seed) {}

void FaultOverlay::inject_synthetic(const std::string& unit) {
    std::lock_guard lock(mutex_);
    faults_[unit] = InjectedFault{std::nullopt, kSyntheticSamples};
}

void FaultOverlay::inject(FaultMode mode, const std::string& unit) {
    std::lock_guard lock(mutex_);
    faults_[unit] = InjectedFault{mode, 0};
}

bool FaultOverlay::heal(const std::string& unit) {
    std::lock_guard lock(mutex_);
    return faults_.erase(unit) > 0;
}

std::optional<InjectedFault> FaultOverlay::fault(const std::string& unit) const {
    std::lock_guard lock(mutex_);
    const auto it = faults_.find(unit);
    if (it == faults_.end()) return std::nullopt;
    return it->second;
}

void FaultOverlay::apply(std::vector<TargetReading>& readings) {
    std::lock_guard lock(mutex_);
    const auto high = [this](double low, double top) { return std::uniform_real_distribution<double>(low, top)(rng_); };
    for (TargetReading& reading : readings) {
        const auto it = faults_.find(reading.unit);
        if (it == faults_.end()) continue;
        InjectedFault& fault = it->second;
        if (!fault.mode) {
            reading.cpu = high(95.0, 99.0);
            reading.memory = high(92.0, 98.0);
            if (--fault.samples_left <= 0) faults_.erase(it);
            continue;
        }
        switch (*fault.mode) {
            case FaultMode::cpu_runaway: reading.cpu = high(97.0, 100.0); break;
            case FaultMode::memory_leak: reading.memory = high(94.0, 99.0); break;
            // A hung unit is as good as dead; systemd's watchdog would kill it.
            case FaultMode::crash:
            case FaultMode::hang:
                reading.present = false;
                reading.cpu = 0.0;
                reading.memory.reset();
                break;
        }
    }
}

}  // namespace heal
