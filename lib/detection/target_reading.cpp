#include "detection/target_reading.hpp"

namespace heal {

std::vector<TargetReading> readings_from(const Sample& sample, std::uint64_t memory_total_bytes) {
    std::vector<TargetReading> readings;
    readings.reserve(sample.units.size() + 1);
    TargetReading machine{"", true, sample.system.cpu_percent, sample.system.memory_percent};
    machine.cpu_pressure = sample.system.cpu_pressure;
    machine.memory_pressure = sample.system.memory_pressure;
    machine.io_pressure = sample.system.io_pressure;
    readings.push_back(std::move(machine));
    for (const UnitSample& unit : sample.units) {
        TargetReading reading{unit.unit, unit.present, unit.cpu_percent, std::nullopt};
        reading.memory_max_bytes = unit.memory_max_bytes;
        reading.memory_high_bytes = unit.memory_high_bytes;
        reading.cpu_limit_percent = unit.cpu_limit_percent;
        reading.runnable_threads = unit.runnable_threads;
        reading.cpu_pressure = unit.cpu_pressure;
        reading.memory_pressure = unit.memory_pressure;
        reading.io_pressure = unit.io_pressure;
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
