#include "support/validation.hpp"
#include "detection/anomaly_signal.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "signal_series.hpp"

using heal::AnomalyConfig;
using heal::AnomalyDetector;
using heal::SignalVerdict;
using heal::test::Noise;
using heal::test::unit_at;
using heal::test::invalid_field;

namespace {

constexpr double kWeek = 7 * 24 * 3600.0;

struct Count {
    int onsets = 0;    // times it started firing
    int failures = 0;  // times it entered failure
    std::optional<double> first_failure;  // seconds
    SignalVerdict last;
};

// CPU readings every `step` seconds from `cpu(t)`, for `seconds`.
Count run(AnomalyDetector& detector, double seconds, double step, const std::function<double(double)>& cpu) {
    Count count;
    bool firing = false;
    bool failed = false;
    for (double t = 0; t < seconds; t += step) {
        auto input = unit_at(t);
        input.cpu_percent = cpu(t);
        count.last = detector.observe(input);
        if (count.last.firing && !firing) ++count.onsets;
        if (count.last.failure && !failed) {
            ++count.failures;
            if (!count.first_failure) count.first_failure = t;
        }
        firing = count.last.firing;
        failed = count.last.failure;
    }
    return count;
}

}  // namespace

TEST_CASE("anomaly: the threshold is where the fitted tail expects FalseAlarmsPerWeek summaries a week") {
    // One reading a minute: each is its own summary. The history is 1..60,
    // so u (the 90th percentile) is 54, 6 of 60 lie above it (p_u 0.1) by
    // 3.5 on average (β), and a week holds 10 080 summaries.
    auto judged = [](double false_alarms_per_week) {
        AnomalyConfig config;
        config.false_alarms_per_week = false_alarms_per_week;
        config.max_gap_sec = 120.0;
        AnomalyDetector detector{config};
        for (int minute = 0; minute <= 60; ++minute) {
            auto input = unit_at(60.0 * minute);
            input.cpu_percent = minute == 60 ? 70.0 : minute + 1.0;
            REQUIRE_FALSE(detector.observe(input).firing);
        }
        return detector.observe(unit_at(60.0 * 61));  // closes the summary of 70 %
    };
    const SignalVerdict once = judged(1.0);
    CHECK(once.signal == "anomaly");
    CHECK(once.value == 70.0);
    CHECK(once.threshold == Approx(54.0 + 3.5 * std::log(0.1 * 10080 / 1.0)));  // 78.2
    CHECK_FALSE(once.firing);
    CHECK(once.needs_corroboration);

    const SignalVerdict often = judged(50.0);
    CHECK(often.threshold == Approx(54.0 + 3.5 * std::log(0.1 * 10080 / 50.0)));  // 64.5
    CHECK(often.firing);
    CHECK_FALSE(often.failure);
    CHECK(often.needs_corroboration);
    CHECK(often.reason ==
          "cpu of web.service averaged 70.0% over 60 s, above 64.5%, the level its last 1.0 h say it would exceed 50 "
          "times a week, and at least its median 31.0% + 5.0 (this high: about 10 times a week, likelihood "
          "0.998966); anomalous for 0 s, a failure at 300 s; acted on only while another signal of web.service "
          "fires");
}

TEST_CASE("anomaly: the false-alarm rate is the one chosen, on exponential-tailed noise") {
    // Ten weeks of one summary a minute, independent, with an exponential
    // tail: it starts firing about FalseAlarmsPerWeek times a week (the
    // tail fitted to 36 peaks is uncertain, and errs toward alarms).
    auto onsets_per_week = [](double false_alarms_per_week) {
        AnomalyConfig config;
        config.false_alarms_per_week = false_alarms_per_week;
        config.max_gap_sec = 120.0;
        AnomalyDetector detector{config};
        Noise noise{21};
        const Count count = run(detector, 10 * kWeek, 60.0, [&](double) { return 20.0 - 3.0 * std::log(noise.uniform()); });
        return count.onsets / 10.0;
    };
    const double rare = onsets_per_week(1.0);
    const double often = onsets_per_week(20.0);
    WARN("anomaly onsets per week: " << rare << " at FalseAlarmsPerWeek=1, " << often << " at 20");
    CHECK(rare == 1.2);
    CHECK(often == 21.4);
}

TEST_CASE("anomaly: false failures per simulated week stay rare, fixed seed") {
    AnomalyDetector detector{AnomalyConfig{}};
    Noise noise{7};
    Count count;
    SECTION("heavy tails: Pareto noise of index 2.5 on 10%") {
        count = run(detector, 4 * kWeek, 4.0, [&](double) { return 10.0 + 5.0 * (noise.pareto(2.5) - 1.0); });
        WARN("heavy tails: " << count.onsets / 4.0 << " onsets and " << count.failures / 4.0 << " failures a week");
        // A tail heavier than the fit allows starts more alarms than chosen
        // (7.75 a week), but none lasts ForSec.
        CHECK(count.onsets == 31);
        CHECK(count.failures == 0);
    }
    SECTION("periodic bursts: a full core for 8 s every 40 s over 5%") {
        count = run(detector, 2 * kWeek, 2.0, [&](double t) {
            return (std::fmod(t, 40.0) < 8.0 ? 100.0 : 5.0) + noise.normal();
        });
        WARN("bursts: " << count.onsets / 2.0 << " onsets and " << count.failures / 2.0 << " failures a week");
        CHECK(count.onsets == 0);
        CHECK(count.failures == 0);
    }
    SECTION("slow drift: from 20% to 60% over a week, with noise") {
        count = run(detector, kWeek, 5.0, [&](double t) { return 20.0 + 40.0 * t / kWeek + 2.0 * noise.normal(); });
        WARN("drift: " << count.onsets << " onsets and " << count.failures << " failures in the week");
        CHECK(count.onsets == 0);
        CHECK(count.failures == 0);
    }
}

TEST_CASE("anomaly: a level shift fails after ForSec, then is relearned") {
    AnomalyDetector detector{AnomalyConfig{}};
    Noise noise{5};
    const double shift = 12 * 3600.0;
    const Count count = run(detector, shift + 4 * 3600.0, 2.0, [&](double t) {
        return (t < shift ? 20.0 : 60.0) + 2.0 * noise.normal();
    });
    REQUIRE(count.first_failure);
    WARN("the shift failed " << *count.first_failure - shift << " s after it began");
    // The first shifted summary closes a minute in; five minutes later it is a failure.
    CHECK(*count.first_failure - shift == 360.0);
    CHECK(count.failures == 1);
    CHECK_FALSE(count.last.firing);  // four hours on, 60% is the new normal
}

TEST_CASE("anomaly: nothing is judged before HistoryMinSec or without a reading") {
    AnomalyDetector detector{AnomalyConfig{}};
    auto input = unit_at(0);
    input.cpu_percent = 99.0;
    SignalVerdict verdict = detector.observe(input);
    CHECK_FALSE(verdict.firing);
    CHECK(verdict.reason == "cpu of web.service is not judged yet: 0 of 3600 s of history");
    input.present = false;
    verdict = detector.observe(input);
    CHECK(verdict.reason == "cpu of web.service is not judged: no reading");

    AnomalyConfig memory;
    memory.metric = heal::SignalMetric::memory;
    AnomalyDetector memory_detector{memory};
    CHECK(memory_detector.observe(unit_at(0)).reason == "memory of web.service is not judged: no reading");
}

TEST_CASE("anomaly config: defaults are valid and each invalid field is named") {
    AnomalyConfig config;
    CHECK(config.false_alarms_per_week == 1.0);
    CHECK(config.for_sec == 300.0);
    CHECK(config.history_sec == 21600.0);
    CHECK_NOTHROW(config.validate());
    config.false_alarms_per_week = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("false_alarms_per_week"));
    config.false_alarms_per_week = 20000;  // more than one per summary
    CHECK_THAT(invalid_field(config), Catch::StartsWith("false_alarms_per_week"));
    config = {};
    config.summary_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("summary_sec"));
    config = {};
    config.history_min_sec = 300;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("history_min_sec"));
    config = {};
    config.history_sec = 1800;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("history_sec"));
    config = {};
    config.min_deviation = -1;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("min_deviation"));
    config = {};
    config.for_sec = -1;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("for_sec"));
    CHECK_THROWS_AS(AnomalyDetector(config), std::invalid_argument);
}
