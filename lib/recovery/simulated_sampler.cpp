#include "recovery/simulated_sampler.hpp"

namespace heal {

SimulatedSampler::SimulatedSampler(std::vector<std::string> units, std::uint64_t seed)
    : units_(std::move(units)), rng_(seed) {}

void SimulatedSampler::watch(std::vector<std::string> units) { units_ = std::move(units); }

Sample SimulatedSampler::sample() {
    const auto between = [this](double low, double high) { return std::uniform_real_distribution<double>(low, high)(rng_); };
    Sample sample;
    sample.time = std::chrono::system_clock::now();
    sample.system.cpu_percent = between(5.0, 15.0);
    sample.system.memory_percent = between(30.0, 40.0);
    for (const std::string& unit : units_) {
        UnitSample reading;
        reading.unit = unit;
        reading.present = true;
        reading.cpu_percent = between(1.0, 5.0);
        reading.memory_bytes = static_cast<std::uint64_t>(between(0.14, 0.16) * static_cast<double>(kUnitMemoryMaxBytes));
        reading.memory_max_bytes = kUnitMemoryMaxBytes;
        sample.units.push_back(std::move(reading));
    }
    return sample;
}

}  // namespace heal
