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

}  // namespace heal
