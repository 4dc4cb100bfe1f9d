#include "support/validation.hpp"
#include "detection/cpu_saturation.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"

using heal::CpuSaturationConfig;
using heal::CpuSaturationDetector;
using heal::SignalVerdict;
using heal::test::unit_at;
using heal::test::invalid_field;

namespace {

// A unit with CPUQuota=50% (cpu.max "50000 100000") on a 4-CPU machine.
heal::SignalInput quota_unit(double second, double cpu) {
    auto input = unit_at(second);
    input.cpus = 4;
    input.cpu_limit_percent = 50.0;
    input.cpu_percent = cpu;
    return input;
}

}  // namespace

TEST_CASE("cpu saturation: a burst at the quota of 8 s every 40 s never fails with ForSec 15") {
    CpuSaturationConfig config;
    config.for_sec = 15.0;
    CpuSaturationDetector detector{config};
    int firing = 0;
    int failures = 0;
    for (int second = 0; second < 4 * 3600; ++second) {
        const bool burst = second % 40 < 8;
        const SignalVerdict verdict = detector.observe(quota_unit(second, burst ? 50.0 : 5.0));
        firing += verdict.firing ? 1 : 0;
        failures += verdict.failure ? 1 : 0;
    }
    // It does see every burst after the first minute of baseline: 8 s each.
    CHECK(firing == 8 * (4 * 3600 / 40 - 2));
    CHECK(failures == 0);
}

TEST_CASE("cpu saturation: pinned at the quota for ForSec after a lower baseline is a failure") {
    CpuSaturationDetector detector{CpuSaturationConfig{}};
    for (int second = 0; second < 600; ++second) REQUIRE_FALSE(detector.observe(quota_unit(second, 10.0)).firing);

    SignalVerdict verdict;
    for (int second = 600; second < 660; ++second) {
        verdict = detector.observe(quota_unit(second, 49.0));
        CHECK(verdict.firing);
        CHECK_FALSE(verdict.failure);
    }
    CHECK(verdict.held_sec == 59.0);
    verdict = detector.observe(quota_unit(660, 49.0));
    CHECK(verdict.signal == "cpu_saturation");
    CHECK(verdict.failure);
    CHECK(verdict.held_sec == 60.0);
    CHECK(verdict.value == 49.0);
    CHECK(verdict.threshold == 47.5);
    CHECK(verdict.reason ==
          "cpu of web.service 49.0% has been pinned at or above 47.5% (95% of its CPUQuota 50.0%) for 60 s, "
          "above its baseline 10.0%");

    SECTION("a failure that lasts does not become its own baseline") {
        for (int second = 661; second < 3600; ++second) verdict = detector.observe(quota_unit(second, 49.0));
        CHECK(verdict.failure);
    }
    SECTION("one tick below the line starts ForSec over") {
        CHECK_FALSE(detector.observe(quota_unit(661, 20.0)).firing);
        verdict = detector.observe(quota_unit(662, 49.0));
        CHECK(verdict.firing);
        CHECK(verdict.held_sec == 0.0);
        CHECK_FALSE(verdict.failure);
    }
    SECTION("a unit that stops is not judged, and ForSec starts over") {
        auto stopped = quota_unit(661, 0.0);
        stopped.present = false;
        verdict = detector.observe(stopped);
        CHECK_FALSE(verdict.firing);
        CHECK(verdict.reason == "cpu of web.service is not judged: no reading");
        CHECK(detector.observe(quota_unit(662, 49.0)).held_sec == 0.0);
    }
}

TEST_CASE("cpu saturation: a unit pinned since its start is its own baseline") {
    CpuSaturationDetector detector{CpuSaturationConfig{}};
    SignalVerdict verdict;
    for (int second = 0; second < 3600; ++second) {
        verdict = detector.observe(quota_unit(second, 50.0));
        REQUIRE_FALSE(verdict.firing);
    }
    CHECK(verdict.reason == "cpu of web.service 50.0% is pinned at its CPUQuota 50.0%, as usual: its baseline is 50.0%");
}

TEST_CASE("cpu saturation: without a quota a unit's capacity is a core per runnable thread, the machine's 100%") {
    CpuSaturationDetector unit{CpuSaturationConfig{}};
    auto input = unit_at(0);
    input.cpus = 4;
    input.cpu_percent = 100.0;
    input.runnable_threads = 1;  // one thread spinning: one full core is all it can use
    auto verdict = unit.observe(input);
    CHECK(verdict.threshold == 95.0);
    CHECK(verdict.reason ==
          "cpu of web.service 100.0% is pinned at one full core (one runnable thread) but its baseline is still being "
          "learned");

    input.runnable_threads = 3;  // three threads runnable but only one core's worth used: they wait for CPUs
    verdict = unit.observe(input);
    CHECK(verdict.threshold == 285.0);
    CHECK(verdict.value == 300.0);
    CHECK(verdict.reason ==
          "cpu of web.service 100.0% (demand 300.0%: 3 threads runnable, running or waiting for a CPU) is pinned at "
          "3 full cores (3 runnable threads) but its baseline is still being learned");

    input.runnable_threads = 9;  // more threads than CPUs: every CPU
    CHECK(unit.observe(input).threshold == 380.0);
    input.runnable_threads = 0;  // caught between runs: still at least one core
    input.cpu_percent = 60.0;
    verdict = unit.observe(input);
    CHECK(verdict.threshold == 95.0);
    CHECK(verdict.value == 60.0);
    CHECK(verdict.reason == "cpu of web.service 60.0% is below 95.0%, 95% of one full core (one runnable thread)");

    CpuSaturationDetector machine{CpuSaturationConfig{}};
    auto whole = unit_at(0, "");
    whole.cpus = 4;
    whole.cpu_percent = 96.0;
    verdict = machine.observe(whole);
    CHECK(verdict.threshold == 95.0);
    CHECK(verdict.reason == "cpu of the machine 96.0% is pinned at all its CPUs but its baseline is still being learned");
}

TEST_CASE("cpu saturation: on a contended machine a thread runnable at every sample is pinned, a busy one is not") {
    // Two CPUs shared with other work: the spinning thread gets 30 % of a
    // core, but is runnable whenever it is sampled.
    auto contended = [](int second, double cpu, unsigned runnable) {
        auto input = unit_at(second);
        input.cpus = 2;
        input.cpu_percent = cpu;
        input.runnable_threads = runnable;
        return input;
    };
    CpuSaturationDetector detector{CpuSaturationConfig{}};
    SignalVerdict verdict;
    // A healthy baseline: 10 % of a core, runnable at one sample in five.
    for (int second = 0; second < 600; ++second) {
        verdict = detector.observe(contended(second, 10.0, second % 5 == 0 ? 1 : 0));
        REQUIRE_FALSE(verdict.failure);
    }
    CHECK(verdict.firing == false);
    for (int second = 600; second < 660; ++second) REQUIRE_FALSE(detector.observe(contended(second, 30.0, 1)).failure);
    verdict = detector.observe(contended(660, 30.0, 1));
    CHECK(verdict.failure);
    CHECK(verdict.value == 100.0);
    CHECK(verdict.reason ==
          "cpu of web.service 30.0% (demand 100.0%: 1 thread runnable, running or waiting for a CPU) has been pinned "
          "at or above 95.0% (95% of one full core (one runnable thread)) for 60 s, above its baseline 10.0%");

    // A service that works hard but waits between requests: runnable at 9
    // samples in 10, never ForSec in a row.
    CpuSaturationDetector busy{CpuSaturationConfig{}};
    for (int second = 0; second < 600; ++second) busy.observe(contended(second, 10.0, second % 5 == 0 ? 1 : 0));
    for (int second = 600; second < 4200; ++second)
        REQUIRE_FALSE(busy.observe(contended(second, 45.0, second % 10 == 0 ? 0 : 1)).failure);
}

TEST_CASE("cpu saturation config: defaults are valid and each invalid field is named") {
    CpuSaturationConfig config;
    CHECK(config.for_sec == 60.0);
    CHECK(config.saturation_percent == 95.0);
    CHECK(config.baseline_sec == 600.0);
    CHECK_NOTHROW(config.validate());
    config.for_sec = -1;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("for_sec"));
    config = {};
    config.max_gap_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("max_gap_sec"));
    config = {};
    config.saturation_percent = 101;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("saturation_percent"));
    config = {};
    config.baseline_sec = 5;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("baseline_sec"));
    config = {};
    config.baseline_min_sec = 700;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("baseline_min_sec"));
    CHECK_THROWS_AS(CpuSaturationDetector(config), std::invalid_argument);
}
