#include "support/validation.hpp"
#include "detection/memory_exhaustion.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "signal_series.hpp"

using heal::MemoryExhaustionConfig;
using heal::MemoryExhaustionDetector;
using heal::SignalVerdict;
using heal::test::kMiB;
using heal::test::Noise;
using heal::test::unit_at;
using heal::test::invalid_field;

namespace {

// A unit with MemoryMax=300M using `mib` MiB.
heal::SignalInput capped_unit(double second, double mib) {
    auto input = unit_at(second);
    input.memory_max_bytes = 300 * kMiB;
    input.memory_bytes = static_cast<std::uint64_t>(mib * static_cast<double>(kMiB));
    return input;
}

struct Outcome {
    int firing = 0;
    std::optional<int> first_failure;  // second
    SignalVerdict at_failure;
};

// Feeds one reading a second for `seconds`, memory in MiB from `mib`.
Outcome run(MemoryExhaustionDetector& detector, int seconds, const std::function<double(int)>& mib) {
    Outcome outcome;
    for (int second = 0; second < seconds; ++second) {
        const SignalVerdict verdict = detector.observe(capped_unit(second, mib(second)));
        outcome.firing += verdict.firing ? 1 : 0;
        if (verdict.failure && !outcome.first_failure) {
            outcome.first_failure = second;
            outcome.at_failure = verdict;
        }
    }
    return outcome;
}

}  // namespace

TEST_CASE("memory leak: 20 MiB/s from 50 MiB under MemoryMax=300M is predicted before the limit") {
    // The limit is reached 12.5 s into the leak.
    SECTION("a unit that leaks from its start") {
        MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
        const Outcome outcome = run(detector, 13, [](int second) { return 50.0 + 20.0 * second; });
        REQUIRE(outcome.first_failure);
        WARN("leak detected at " << *outcome.first_failure << " s, "
                                 << outcome.at_failure.value / static_cast<double>(kMiB) << " MiB, "
                                 << *outcome.at_failure.exhaustion_sec << " s before the limit");
        // 70 MiB and 3.5 s before the limit: growth for as long as the time left.
        CHECK(*outcome.first_failure == 9);
        CHECK(outcome.at_failure.value == 230.0 * kMiB);
        CHECK(outcome.at_failure.threshold == 300.0 * kMiB);
        CHECK(*outcome.at_failure.exhaustion_sec == Approx(3.5));
        CHECK(outcome.at_failure.signal == "memory_leak");
        CHECK(outcome.at_failure.reason ==
              "memory of web.service grows 20.0 MiB/s and reaches its 300.0 MiB MemoryMax in 4 s, "
              "within the 300 s horizon; growing so for 5 s");
    }
    SECTION("a unit that leaks after ten flat, noisy minutes") {
        MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
        Noise noise{11};
        const Outcome outcome = run(detector, 613, [&](int second) {
            return 50.0 + noise.normal() + (second > 600 ? 20.0 * (second - 600) : 0.0);
        });
        REQUIRE(outcome.first_failure);
        WARN("leak after a flat history detected at " << *outcome.first_failure - 600 << " s into it, "
                                                      << outcome.at_failure.value / static_cast<double>(kMiB)
                                                      << " MiB");
        CHECK(*outcome.first_failure == 608);
        CHECK(outcome.at_failure.value == Approx(209.3 * kMiB).epsilon(0.001));
        CHECK(*outcome.at_failure.exhaustion_sec == Approx(4.5).margin(0.1));
    }
}

TEST_CASE("memory leak: a GC sawtooth between 100 and 200 MiB every 30 s never fails") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    const Outcome outcome =
        run(detector, 4 * 3600, [](int second) { return 100.0 + 100.0 * (second % 30) / 30.0; });
    CHECK_FALSE(outcome.first_failure);
}

TEST_CASE("memory leak: a GC whose rises vary from 30 to 40 s never fails: each drop ends the growth") {
    // As heal-gc.service of the trace corpus: from 27 MiB at 3.4 MiB/s, then
    // all freed at once; here a rise lasts 30 to 40 s (up to 163 MiB of the
    // 300 MiB MemoryMax). Read through its drop, one rise ran into the next.
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    Noise noise{21};
    int rise_sec = 30;
    int into_rise = 0;
    const Outcome outcome = run(detector, 4 * 3600, [&](int) {
        if (into_rise == rise_sec) {
            into_rise = 0;
            rise_sec = 30 + static_cast<int>(11.0 * noise.uniform());
        }
        return 27.0 + 3.4 * into_rise++;
    });
    CHECK_FALSE(outcome.first_failure);
}

TEST_CASE("memory leak: a cache warming to a plateau never fails") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    Noise noise{12};
    // From 50 MiB toward 200 MiB, decelerating (time constant 60 s).
    const Outcome outcome = run(detector, 3600, [&](int second) {
        return 50.0 + 150.0 * (1.0 - std::exp(-second / 60.0)) + 0.5 * noise.normal();
    });
    CHECK(outcome.firing > 0);  // it looked like a leak for a while
    CHECK_FALSE(outcome.first_failure);
}

TEST_CASE("memory leak: noise near the limit is not a leak") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    Noise noise{13};
    const Outcome outcome = run(detector, 3600, [&](int) { return 280.0 + 2.0 * noise.normal(); });
    CHECK_FALSE(outcome.first_failure);
}

TEST_CASE("memory leak: at the limit it is a failure at once") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    const SignalVerdict verdict = detector.observe(capped_unit(0, 300.0));
    CHECK(verdict.firing);
    CHECK(verdict.failure);
    CHECK(verdict.exhaustion_sec == 0.0);
    CHECK(verdict.reason == "memory of web.service 300.0 MiB is at its 300.0 MiB MemoryMax");
}

TEST_CASE("memory leak: the limit is MemoryMax, else MemoryHigh, else RAM, else nothing is judged") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    auto input = unit_at(0);
    input.memory_bytes = 100 * kMiB;
    input.machine_memory_bytes = 100 * kMiB;
    CHECK(detector.observe(input).reason == "memory of web.service 100.0 MiB is at its 100.0 MiB RAM");
    input.memory_high_bytes = 200 * kMiB;
    CHECK(detector.observe(input).reason ==
          "memory of web.service 100.0 MiB shows no steady growth toward its 200.0 MiB MemoryHigh");
    input.memory_max_bytes = 100 * kMiB;
    CHECK(detector.observe(input).threshold == 100.0 * kMiB);

    auto unknown = unit_at(1);
    unknown.memory_bytes = 100 * kMiB;
    const SignalVerdict verdict = detector.observe(unknown);
    CHECK_FALSE(verdict.firing);
    CHECK(verdict.reason == "memory of web.service is not judged: no limit is known");
    unknown.present = false;
    CHECK(detector.observe(unknown).reason == "memory of web.service is not judged: no reading");
}

TEST_CASE("memory leak: growth whose exhaustion lies beyond the horizon fires nothing") {
    MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
    SignalVerdict verdict;
    for (int second = 0; second < 60; ++second) verdict = detector.observe(capped_unit(second, 50.0 + 0.5 * second));
    CHECK_FALSE(verdict.firing);
    REQUIRE(verdict.exhaustion_sec);
    CHECK(*verdict.exhaustion_sec == Approx(441.0));
    CHECK(verdict.reason ==
          "memory of web.service grows 0.5 MiB/s and reaches its 300.0 MiB MemoryMax in 441 s, beyond the 300 s horizon");
}

TEST_CASE("memory leak config: defaults are valid and each invalid field is named") {
    MemoryExhaustionConfig config;
    CHECK(config.predict_horizon_sec == 300.0);
    CHECK(config.for_sec == 300.0);
    CHECK_NOTHROW(config.validate());
    config.predict_horizon_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("predict_horizon_sec"));
    config = {};
    config.trend_point_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("trend_point_sec"));
    config = {};
    config.trend_window_sec = 1000;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("trend_window_sec"));
    config = {};
    config.trend_min_points = 2;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("trend_min_points"));
    config = {};
    config.trend_min_slope_bytes_per_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("trend_min_slope_bytes_per_sec"));
    config = {};
    config.trend_consistency = 0.5;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("trend_consistency"));
    config = {};
    config.max_gap_sec = -1;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("max_gap_sec"));
    CHECK_THROWS_AS(MemoryExhaustionDetector(config), std::invalid_argument);
}

TEST_CASE("memory leak: a trend needs exactly TrendConsistency of its point pairs rising, not more") {
    // Five points a second apart, the shortest scale: 8 of their 10 pairs
    // rise (0.8, the default) in the first series, 7 in the second.
    const auto last_verdict = [](const std::vector<double>& mib) {
        MemoryExhaustionDetector detector{MemoryExhaustionConfig{}};
        SignalVerdict verdict;
        for (std::size_t second = 0; second < mib.size(); ++second)
            verdict = detector.observe(capped_unit(static_cast<double>(second), mib[second]));
        return verdict;
    };
    const SignalVerdict consistent = last_verdict({100.0, 110.0, 120.0, 115.0, 118.0});
    INFO(consistent.reason);
    REQUIRE(consistent.exhaustion_sec);
    CHECK_THAT(consistent.reason, Catch::StartsWith("memory of web.service grows 4.5 MiB/s"));
    const SignalVerdict inconsistent = last_verdict({100.0, 110.0, 120.0, 115.0, 112.0});
    CHECK_FALSE(inconsistent.exhaustion_sec);
    CHECK_THAT(inconsistent.reason, Catch::Contains("shows no steady growth"));
}
