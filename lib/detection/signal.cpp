#include "detection/signal.hpp"

namespace heal {

std::string target_name(const SignalInput& input) {
    return input.unit.empty() ? "the machine" : input.unit;
}

std::optional<NamedMemoryLimit> memory_limit(const SignalInput& input) {
    if (input.memory_max_bytes) return NamedMemoryLimit{*input.memory_max_bytes, "MemoryMax"};
    if (input.memory_high_bytes) return NamedMemoryLimit{*input.memory_high_bytes, "MemoryHigh"};
    if (input.machine_memory_bytes) return NamedMemoryLimit{*input.machine_memory_bytes, "RAM"};
    return std::nullopt;
}

std::optional<double> memory_percent(const SignalInput& input) {
    const auto limit = memory_limit(input);
    if (!input.memory_bytes || !limit || limit->bytes == 0) return std::nullopt;
    return 100.0 * static_cast<double>(*input.memory_bytes) / static_cast<double>(limit->bytes);
}

std::string_view to_string(SignalMetric metric) {
    return metric == SignalMetric::cpu ? "cpu" : "memory";
}

std::optional<double> metric_value(const SignalInput& input, SignalMetric metric) {
    if (!input.present) return std::nullopt;
    if (metric == SignalMetric::cpu) return input.cpu_percent;
    return memory_percent(input);
}

SignalInput signal_input(const UnitSample& unit, SteadyTime time, unsigned cpus,
                         std::optional<std::uint64_t> machine_memory_bytes) {
    SignalInput input;
    input.unit = unit.unit;
    input.time = time;
    input.present = unit.present;
    input.cpus = cpus;
    input.machine_memory_bytes = machine_memory_bytes;
    if (!unit.present) return input;
    input.cpu_percent = unit.cpu_percent;
    input.cpu_limit_percent = unit.cpu_limit_percent;
    input.runnable_threads = unit.runnable_threads;
    input.memory_bytes = unit.memory_bytes;
    input.memory_max_bytes = unit.memory_max_bytes;
    input.memory_high_bytes = unit.memory_high_bytes;
    input.cpu_pressure = unit.cpu_pressure;
    input.memory_pressure = unit.memory_pressure;
    input.io_pressure = unit.io_pressure;
    return input;
}

SignalInput signal_input(const SystemSample& machine, SteadyTime time, unsigned cpus,
                         std::optional<std::uint64_t> machine_memory_bytes) {
    SignalInput input;
    input.time = time;
    input.cpus = cpus;
    input.cpu_percent = machine.cpu_percent;
    input.machine_memory_bytes = machine_memory_bytes;
    if (machine_memory_bytes)
        input.memory_bytes =
            static_cast<std::uint64_t>(machine.memory_percent / 100.0 * static_cast<double>(*machine_memory_bytes));
    input.cpu_pressure = machine.cpu_pressure;
    input.memory_pressure = machine.memory_pressure;
    input.io_pressure = machine.io_pressure;
    return input;
}

}  // namespace heal
