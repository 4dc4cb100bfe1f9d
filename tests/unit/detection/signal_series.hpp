#pragma once
// Synthetic time and series for the signal detectors' tests: steady time
// points built from durations (no wall clock), and noise from mt19937_64's
// raw output, whose sequence the standard fixes (std's distributions are
// implementation-defined, so counts would differ between libraries).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "detection/signal.hpp"

namespace heal::test {

constexpr std::uint64_t kMiB = 1024 * 1024;

inline SteadyTime at(double seconds) {
    return SteadyTime{} + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(seconds));
}

inline SignalInput unit_at(double seconds, std::string unit = "web.service") {
    SignalInput input;
    input.unit = std::move(unit);
    input.time = at(seconds);
    return input;
}

class Noise {
public:
    explicit Noise(std::uint64_t seed) : engine_(seed) {}
    double uniform() {  // in (0, 1)
        return (static_cast<double>(engine_() >> 11) + 0.5) / 9007199254740992.0;
    }
    double normal() {  // Box–Muller
        return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * M_PI * uniform());
    }
    double pareto(double alpha) {  // >= 1, heavy tail of index alpha
        return std::pow(uniform(), -1.0 / alpha);
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace heal::test
