#pragma once
// The system as the simulated backend sees it: a quiet machine (5-15 % CPU,
// 30-40 % memory) and quiet watched units (1-5 % CPU, ~15 % of a 512 MiB
// MemoryMax), all with jitter. Injected faults are laid over it by the
// FaultOverlay like over any reading, and healed by the simulated executors,
// so `healerd --simulated` runs the whole loop without reading or changing
// the real system, and real load cannot make its tests flaky.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sampling/sample.hpp"

namespace heal {

class SimulatedSampler final : public Sampler {
public:
    static constexpr std::uint64_t kUnitMemoryMaxBytes = 512ull << 20;
    // The RAM the simulated machine's memory % is of.
    static constexpr std::uint64_t kMachineMemoryBytes = 8ull << 30;

    SimulatedSampler(std::vector<std::string> units, std::uint64_t seed);
    void watch(std::vector<std::string> units);
    Sample sample() override;

private:
    std::vector<std::string> units_;
    std::mt19937_64 rng_;
};

}  // namespace heal
