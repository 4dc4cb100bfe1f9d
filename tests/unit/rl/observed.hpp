#pragma once
// A failure observation with just the original design's three features set.
#include "rl/observation.hpp"

namespace heal::test {

inline Observation observed(double cpu, double memory, int failures) {
    Observation o;
    o.cpu_percent = cpu;
    o.memory_percent = memory;
    o.failure_count = failures;
    return o;
}

}  // namespace heal::test
