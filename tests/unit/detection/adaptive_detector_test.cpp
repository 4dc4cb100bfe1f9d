#include "support/validation.hpp"
#include "detection/adaptive_detector.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace heal;
using heal::test::invalid_field;

namespace {

// Defaults with the floor out of the way, so the statistics alone decide.
AdaptiveDetectorConfig no_floor() {
    AdaptiveDetectorConfig config;
    config.floor = 0.0;
    return config;
}

// Alternating 20/22: mean 21, σ exactly 1, so the k=2 threshold is 23.
void feed_baseline(AdaptiveDetector& detector, int samples) {
    for (int i = 0; i < samples; ++i) REQUIRE_FALSE(detector.observe(i % 2 == 0 ? 20.0 : 22.0).anomalous);
}

}  // namespace

TEST_CASE("detector config: defaults are the original design's and valid") {
    const AdaptiveDetectorConfig config;
    CHECK(config.window == 60);
    CHECK(config.k == 2.0);
    CHECK(config.min_samples == 10);
    CHECK(config.warmup_threshold == 90.0);
    CHECK_NOTHROW(config.validate());
}

TEST_CASE("detector config: each invalid field is named") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    AdaptiveDetectorConfig c;
    c.window = 0;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("window"));
    c = {};
    c.k = -0.5;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("k "));
    c.k = nan;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("k "));
    c = {};
    c.min_samples = 1;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("min_samples"));
    c.min_samples = 61;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("min_samples"));
    c = {};
    c.warmup_threshold = nan;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("warmup_threshold"));
    c = {};
    c.consecutive = 0;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("consecutive"));
    c = {};
    c.floor = std::numeric_limits<double>::infinity();
    CHECK_THAT(invalid_field(c), Catch::StartsWith("floor"));
    c = {};
    c.consecutive = 5;
    c.relearn_after = 3;
    CHECK_THAT(invalid_field(c), Catch::StartsWith("relearn_after"));
    c.relearn_after = 0;
    CHECK_NOTHROW(c.validate());
    c = {};
    c.window = 0;
    CHECK_THROWS_AS(AdaptiveDetector("cpu", c), std::invalid_argument);
}

TEST_CASE("detector: warm-up uses the fixed threshold") {
    AdaptiveDetector detector("cpu", no_floor());
    const Verdict high = detector.observe(95.0);
    CHECK(high.anomalous);
    CHECK(high.failure);
    CHECK(high.threshold == 90.0);
    CHECK(high.reason == "cpu 95.0% is above 90.0%, the fixed threshold while warming up (0 of 10 samples)");
    const Verdict busy = detector.observe(85.0);
    CHECK_FALSE(busy.anomalous);
    CHECK(busy.reason == "cpu 85.0% is not above 90.0%, the fixed threshold while warming up (0 of 10 samples)");
    // 85 was admitted, 95 was not: 9 more values end the warm-up.
    for (int i = 0; i < 9; ++i) CHECK(detector.observe(85.0).threshold == 90.0);
    CHECK(detector.peek(85.0).threshold == Approx(85.0));  // adaptive now: σ 0
}

TEST_CASE("detector: a step is a failure at once and stays one") {
    AdaptiveDetector detector("cpu", no_floor());
    feed_baseline(detector, 60);
    const Verdict step = detector.observe(80.0);
    CHECK(step.anomalous);
    CHECK(step.failure);
    CHECK(step.threshold == Approx(23.0));
    CHECK(step.reason == "cpu 80.0% is above 23.0%, the mean 21.0% + 2.0σ of the last 60 samples");
    // Anomalous values stay out of the baseline, so the threshold does not
    // climb towards the new level.
    for (int i = 0; i < 100; ++i) {
        const Verdict v = detector.observe(80.0);
        CHECK(v.failure);
        CHECK(v.threshold == Approx(23.0));
    }
}

TEST_CASE("detector: a single spike fires once and leaves the baseline unchanged") {
    AdaptiveDetector detector("memory", no_floor());
    feed_baseline(detector, 30);
    const double before = detector.peek(21.0).threshold;
    CHECK(detector.observe(95.0).failure);
    CHECK(detector.peek(21.0).threshold == before);
    CHECK_FALSE(detector.observe(21.0).anomalous);
}

TEST_CASE("detector: a slow drift never fires") {
    // On a linear ramp the newest value sits sqrt(3(n+1)/(n-1)) σ above the
    // mean of the n before it: at most 1.92σ for n >= 10, under k = 2.
    AdaptiveDetector detector("memory", no_floor());
    int anomalies = 0;
    for (int i = 0; i <= 2000; ++i) anomalies += detector.observe(10.0 + 80.0 * i / 2000.0).anomalous ? 1 : 0;
    CHECK(anomalies == 0);
}

TEST_CASE("detector: a flat series (σ = 0)") {
    SECTION("any rise is anomalous without a floor") {
        AdaptiveDetector detector("cpu", no_floor());
        for (int i = 0; i < 30; ++i) REQUIRE_FALSE(detector.observe(3.0).anomalous);
        CHECK_FALSE(detector.peek(3.0).anomalous);
        const Verdict rise = detector.observe(3.04);
        CHECK(rise.failure);
        CHECK(rise.threshold == 3.0);
        CHECK(rise.reason == "cpu 3.04% is above 3.00%, the mean 3.0% + 2.0σ of the last 30 samples");
    }
    SECTION("the floor keeps 3 % -> 4 % from being a failure") {
        AdaptiveDetector detector("cpu", AdaptiveDetectorConfig{});
        for (int i = 0; i < 30; ++i) REQUIRE_FALSE(detector.observe(3.0).anomalous);
        const Verdict rise = detector.observe(4.0);
        CHECK_FALSE(rise.anomalous);
        CHECK_FALSE(rise.failure);
        CHECK(rise.threshold == 50.0);
        CHECK(rise.reason == "cpu 4.0% is not above the 50.0% floor, which overrides 3.0%, the mean 3.0% + 2.0σ of the last 30 samples");
    }
}

TEST_CASE("detector: the floor") {
    AdaptiveDetectorConfig config;
    config.floor = 50.0;
    AdaptiveDetector detector("cpu", config);
    feed_baseline(detector, 30);
    const Verdict above = detector.observe(60.0);
    CHECK(above.failure);
    CHECK(above.threshold == 50.0);
    CHECK(above.reason == "cpu 60.0% is above the 50.0% floor, which overrides 23.0%, the mean 21.0% + 2.0σ of the last 30 samples");
    const Verdict at = detector.observe(50.0);
    CHECK_FALSE(at.anomalous);  // at the floor: never
    CHECK(at.reason == "cpu 50.0% is not above the 50.0% floor, which overrides 23.0%, the mean 21.0% + 2.0σ of the last 30 samples");

    SECTION("also in warm-up, when above the fixed threshold") {
        config.floor = 95.0;
        AdaptiveDetector warming("cpu", config);
        const Verdict v = warming.observe(93.0);
        CHECK_FALSE(v.anomalous);
        CHECK(v.reason == "cpu 93.0% is not above the 95.0% floor, which overrides 90.0%, the fixed threshold while warming up (0 of 10 samples)");
    }
}

TEST_CASE("detector: the consecutive rule") {
    AdaptiveDetectorConfig config = no_floor();
    config.consecutive = 3;
    AdaptiveDetector detector("cpu", config);
    feed_baseline(detector, 30);

    SECTION("three in a row make a failure") {
        const Verdict first = detector.observe(80.0);
        CHECK(first.anomalous);
        CHECK_FALSE(first.failure);
        CHECK(first.reason == "cpu 80.0% is above 23.0%, the mean 21.0% + 2.0σ of the last 30 samples; 1 of 3 in a row before failure");
        CHECK_FALSE(detector.observe(80.0).failure);
        CHECK(detector.peek(80.0).failure);  // peek counts as the next sample
        const Verdict third = detector.observe(80.0);
        CHECK(third.failure);
        CHECK(third.reason == "cpu 80.0% is above 23.0%, the mean 21.0% + 2.0σ of the last 30 samples; 3 in a row");
        CHECK(detector.observe(80.0).failure);
    }
    SECTION("a normal value resets the count") {
        CHECK_FALSE(detector.observe(80.0).failure);
        CHECK_FALSE(detector.observe(80.0).failure);
        CHECK_FALSE(detector.observe(21.0).anomalous);
        CHECK_FALSE(detector.observe(80.0).failure);
        CHECK_FALSE(detector.observe(80.0).failure);
    }
}

TEST_CASE("detector: a sustained level is relearned only after relearn_after samples") {
    AdaptiveDetectorConfig config = no_floor();
    config.relearn_after = 20;
    AdaptiveDetector detector("memory", config);
    feed_baseline(detector, 60);
    for (int i = 1; i <= 20; ++i) REQUIRE(detector.observe(80.0).failure);
    const Verdict adopting = detector.observe(80.0);
    CHECK(adopting.failure);
    CHECK_THAT(adopting.reason, Catch::EndsWith("; sustained, adopting it as the baseline"));
    // Once enough 80s are in the window, 80 is normal again.
    int more = 0;
    while (detector.observe(80.0).anomalous) REQUIRE(++more < 60);
    CHECK_FALSE(detector.observe(80.0).anomalous);

    SECTION("never, with relearn_after 0") {
        config.relearn_after = 0;
        AdaptiveDetector stubborn("memory", config);
        feed_baseline(stubborn, 60);
        for (int i = 0; i < 1000; ++i) REQUIRE(stubborn.observe(80.0).failure);
    }
}

TEST_CASE("detector: a noisy series (seeded) rarely fails and still catches a step") {
    AdaptiveDetectorConfig config = no_floor();
    config.consecutive = 3;
    config.relearn_after = 0;
    AdaptiveDetector detector("cpu", config);
    std::mt19937 rng(20240601);
    std::normal_distribution<double> noise(30.0, 3.0);
    constexpr int kSamples = 5000;
    int anomalous = 0;
    int failures = 0;
    for (int i = 0; i < kSamples; ++i) {
        const Verdict v = detector.observe(noise(rng));
        anomalous += v.anomalous ? 1 : 0;
        failures += v.failure ? 1 : 0;
    }
    // About 2-5 % of Gaussian samples exceed mean + 2σ of their window; three
    // in a row are rare.
    CHECK(anomalous > kSamples / 100);
    CHECK(anomalous < kSamples * 8 / 100);
    CHECK(failures < kSamples / 200);

    std::normal_distribution<double> stepped(60.0, 3.0);
    int to_failure = 0;
    while (!detector.observe(stepped(rng)).failure) REQUIRE(++to_failure < 10);
    CHECK(to_failure == 2);  // the third sample of the step
}

TEST_CASE("detector: peek does not record") {
    AdaptiveDetector detector("cpu", no_floor());
    feed_baseline(detector, 30);
    const Verdict before = detector.peek(21.5);
    for (int i = 0; i < 100; ++i) CHECK(detector.peek(95.0).failure);
    const Verdict after = detector.peek(21.5);
    CHECK(after.threshold == before.threshold);
    CHECK(after.reason == before.reason);
}

TEST_CASE("detector: a non-finite value is reported and not recorded") {
    AdaptiveDetector detector("cpu", no_floor());
    feed_baseline(detector, 30);
    const double threshold = detector.peek(21.0).threshold;
    const Verdict v = detector.observe(std::numeric_limits<double>::quiet_NaN());
    CHECK_FALSE(v.anomalous);
    CHECK_FALSE(v.failure);
    CHECK_THAT(v.reason, Catch::Contains("not a finite number"));
    CHECK(detector.peek(21.0).threshold == threshold);
}
