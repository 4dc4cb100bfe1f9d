#include "detection/pressure_stall.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

PressureConfig validated(PressureConfig config) {
    config.validate();
    return config;
}

std::string_view resource_name(PressureResource resource) {
    switch (resource) {
        case PressureResource::cpu: return "cpu";
        case PressureResource::memory: return "memory";
        case PressureResource::io: return "io";
    }
    return "unknown";
}

const std::optional<Pressure>& pressure_of(const SignalInput& input, PressureResource resource) {
    switch (resource) {
        case PressureResource::cpu: return input.cpu_pressure;
        case PressureResource::memory: return input.memory_pressure;
        case PressureResource::io: break;
    }
    return input.io_pressure;
}

}  // namespace

void PressureConfig::validate() const {
    validate_sustained(for_sec, max_gap_sec);
    if (!(std::isfinite(limit_percent) && limit_percent >= 0.0 && limit_percent < 100.0))
        throw std::invalid_argument(fmt::format("limit_percent must be in [0, 100) (got {})", limit_percent));
}

PressureDetector::PressureDetector(PressureConfig config)
    : config_(validated(config)),
      name_(fmt::format("{}_pressure", resource_name(config_.resource))),
      stalled_(config_.for_sec, config_.max_gap_sec) {}

SignalVerdict PressureDetector::observe(const SignalInput& input) {
    SignalVerdict verdict;
    verdict.signal = name_;
    verdict.threshold = config_.limit_percent;
    const char* line = config_.line == PressureLine::some ? "some" : "full";
    const std::string figure =
        fmt::format("{}.pressure {} avg10 of {}", resource_name(config_.resource), line, target_name(input));

    const auto& pressure = pressure_of(input, config_.resource);
    const std::optional<double> avg10 =
        !input.present || !pressure ? std::nullopt
        : config_.line == PressureLine::some ? std::optional<double>{pressure->avg10}
                                             : pressure->full_avg10;
    if (!avg10) {
        stalled_.interrupt();
        verdict.reason = fmt::format("{} is not judged: no reading", figure);
        return verdict;
    }

    verdict.value = *avg10;
    verdict.firing = *avg10 > config_.limit_percent;
    stalled_.observe(input.time, verdict.firing);
    verdict.held_sec = stalled_.held_sec();
    verdict.failure = stalled_.met();
    if (!verdict.firing) {
        verdict.reason = fmt::format("{} {:.1f}% is not above {:.0f}%", figure, *avg10, config_.limit_percent);
    } else {
        verdict.reason = fmt::format("{} {:.1f}% has been above {:.0f}% for {:.0f} s{}", figure, *avg10,
                                     config_.limit_percent, verdict.held_sec,
                                     verdict.failure ? "" : fmt::format("; a failure at {:.0f} s", config_.for_sec));
    }
    return verdict;
}

}  // namespace heal
