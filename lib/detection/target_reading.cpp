#include "detection/target_reading.hpp"

namespace heal {

std::vector<TargetReading> readings_from(const Sample& sample, std::uint64_t memory_total_bytes) {
    std::vector<TargetReading> readings;
    readings.reserve(sample.units.size() + 1);
    readings.push_back(TargetReading{"", true, sample.system.cpu_percent, sample.system.memory_percent});
    for (const UnitSample& unit : sample.units) {
        TargetReading reading{unit.unit, unit.present, unit.cpu_percent, std::nullopt};
        // A leak is judged against the limit that will stop it: MemoryMax
        // when the unit has one, else the machine's RAM.
        const std::uint64_t limit = unit.memory_max_bytes.value_or(memory_total_bytes);
        if (unit.present && limit > 0)
            reading.memory = 100.0 * static_cast<double>(unit.memory_bytes) / static_cast<double>(limit);
        if (!unit.present) reading.cpu = 0.0;
        readings.push_back(std::move(reading));
    }
    return readings;
}

}  // namespace heal
