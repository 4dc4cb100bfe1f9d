#include "support/validation.hpp"
#include "detection/pressure_stall.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "signal_series.hpp"

using heal::PressureConfig;
using heal::PressureDetector;
using heal::PressureResource;
using heal::SignalVerdict;
using heal::test::unit_at;
using heal::test::invalid_field;

namespace {

heal::SignalInput with_memory_pressure(double second, double some, std::optional<double> full = std::nullopt) {
    auto input = unit_at(second);
    input.memory_pressure = heal::Pressure{some, 0, full};
    return input;
}

}  // namespace

TEST_CASE("pressure: memory some avg10 above 60% for 30 s is a failure, systemd-oomd's defaults") {
    PressureDetector detector{PressureConfig{}};
    CHECK(detector.name() == "memory_pressure");
    CHECK_FALSE(detector.observe(with_memory_pressure(0, 60.0)).firing);  // not above

    SignalVerdict verdict;
    for (int second = 1; second <= 30; ++second) verdict = detector.observe(with_memory_pressure(second, 72.5));
    CHECK(verdict.firing);
    CHECK_FALSE(verdict.failure);
    CHECK(verdict.held_sec == 29.0);
    CHECK(verdict.reason ==
          "memory.pressure some avg10 of web.service 72.5% has been above 60% for 29 s; a failure at 30 s");

    verdict = detector.observe(with_memory_pressure(31, 72.5));
    CHECK(verdict.failure);
    CHECK(verdict.signal == "memory_pressure");
    CHECK(verdict.value == 72.5);
    CHECK(verdict.threshold == 60.0);
    CHECK(verdict.reason == "memory.pressure some avg10 of web.service 72.5% has been above 60% for 30 s");
}

TEST_CASE("pressure: a burst of 8 s every 40 s never fails with ForSec 15") {
    // The kernel's avg10 is an exponential average of the stalled share
    // over 10 s, updated every 2 s: a burst with every task stalled lifts it
    // to about 55 %, and it decays in the 32 s between bursts.
    PressureConfig config;
    config.resource = PressureResource::cpu;
    config.limit_percent = 40.0;
    config.for_sec = 15.0;
    PressureDetector detector{config};
    const double decay = std::exp(-2.0 / 10.0);
    double avg10 = 0.0;
    int firing = 0;
    int failures = 0;
    for (int second = 0; second < 4 * 3600; ++second) {
        if (second % 2 == 0) avg10 = avg10 * decay + (second % 40 < 8 ? 100.0 : 0.0) * (1.0 - decay);
        auto input = unit_at(second);
        input.cpu_pressure = heal::Pressure{avg10, 0, std::nullopt};
        const SignalVerdict verdict = detector.observe(input);
        firing += verdict.firing ? 1 : 0;
        failures += verdict.failure ? 1 : 0;
    }
    CHECK(firing == 6 * (4 * 3600 / 40));  // avg10 is above 40 % for 6 s of each burst
    CHECK(failures == 0);
}

TEST_CASE("pressure: the full line when asked, and a missing reading starts ForSec over") {
    PressureConfig config;
    config.line = heal::PressureLine::full;
    config.for_sec = 2.0;
    PressureDetector detector{config};
    CHECK_FALSE(detector.observe(with_memory_pressure(0, 90.0, 10.0)).firing);  // some is not judged
    CHECK(detector.observe(with_memory_pressure(1, 90.0, 70.0)).firing);
    CHECK(detector.observe(with_memory_pressure(2, 90.0, 70.0)).held_sec == 1.0);

    const SignalVerdict missing = detector.observe(with_memory_pressure(3, 90.0));  // no full line
    CHECK_FALSE(missing.firing);
    CHECK(missing.reason == "memory.pressure full avg10 of web.service is not judged: no reading");
    CHECK(detector.observe(with_memory_pressure(4, 90.0, 70.0)).held_sec == 0.0);
    CHECK(detector.observe(with_memory_pressure(5, 90.0, 70.0)).held_sec == 1.0);
    CHECK(detector.observe(with_memory_pressure(6, 90.0, 70.0)).failure);

    auto stopped = with_memory_pressure(7, 90.0, 70.0);
    stopped.present = false;
    CHECK_FALSE(detector.observe(stopped).firing);
}

TEST_CASE("pressure config: defaults are valid and each invalid field is named") {
    PressureConfig config;
    CHECK(config.limit_percent == 60.0);
    CHECK(config.for_sec == 30.0);
    CHECK(config.line == heal::PressureLine::some);
    CHECK_NOTHROW(config.validate());
    config.limit_percent = 100.0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("limit_percent"));
    config.limit_percent = -1.0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("limit_percent"));
    config = {};
    config.for_sec = NAN;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("for_sec"));
    CHECK_THROWS_AS(PressureDetector(config), std::invalid_argument);
    CHECK(PressureDetector(PressureConfig{PressureResource::io}).name() == "io_pressure");
}
