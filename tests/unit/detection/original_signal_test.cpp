#include "detection/original_signal.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"

using heal::test::unit_at;

TEST_CASE("original signal: the AdaptiveDetector's own verdict, counted in samples, by name") {
    heal::AdaptiveDetectorConfig config;
    config.floor = 0.0;
    heal::OriginalDetector detector{heal::SignalMetric::cpu, config};
    CHECK(detector.name() == "original");
    // Alternating 20/22: mean 21, σ 1, so the threshold is 23.
    for (int second = 0; second < 20; ++second) {
        auto input = unit_at(second);
        input.cpu_percent = second % 2 == 0 ? 20.0 : 22.0;
        REQUIRE_FALSE(detector.observe(input).firing);
    }
    auto spike = unit_at(20);
    spike.cpu_percent = 97.0;
    const auto verdict = detector.observe(spike);
    CHECK(verdict.signal == "original");
    CHECK(verdict.firing);
    CHECK(verdict.failure);  // consecutive = 1: at once
    CHECK(verdict.held_sec == 0.0);
    CHECK(verdict.threshold == 23.0);
    CHECK_FALSE(verdict.needs_corroboration);
    CHECK(verdict.reason ==
          "web.service: cpu 97.0% is above 23.0%, the mean 21.0% + 2.0σ of the last 20 samples");

    auto stopped = unit_at(21);
    stopped.present = false;
    CHECK(detector.observe(stopped).reason == "cpu of web.service is not judged: no reading");
    CHECK_THROWS_AS(heal::OriginalDetector(heal::SignalMetric::memory, heal::AdaptiveDetectorConfig{0}),
                    std::invalid_argument);
}
