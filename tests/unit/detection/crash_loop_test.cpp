#include "detection/crash_loop.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"
#include "support/validation.hpp"

using heal::CrashLoopConfig;
using heal::CrashLoopDetector;
using heal::SignalVerdict;
using heal::test::invalid_field;
using heal::test::unit_at;

namespace {

heal::SignalInput restarted(double second, std::uint64_t count, bool present = true) {
    auto input = unit_at(second);
    input.present = present;
    input.automatic_restarts = count;
    return input;
}

}  // namespace

TEST_CASE("crash loop: Restarts= automatic restarts within WindowSec are a failure, fewer or older are not") {
    CrashLoopDetector detector{CrashLoopConfig{}};  // 3 within 5 min
    CHECK_FALSE(detector.observe(restarted(0, 7)).firing);  // restarts before healerd watched are history
    SignalVerdict verdict = detector.observe(restarted(10, 8, false));
    CHECK(verdict.firing);
    CHECK_FALSE(verdict.failure);
    CHECK(verdict.value == 1.0);
    verdict = detector.observe(restarted(100, 9));
    CHECK_FALSE(verdict.failure);
    CHECK(verdict.reason == "web.service was restarted by systemd 2 times in 90 s; a crash loop at 3 within 300 s");
    verdict = detector.observe(restarted(200, 10, false));
    CHECK(verdict.signal == "crash_loop");
    CHECK(verdict.failure);
    CHECK(verdict.held_sec == 190.0);
    CHECK(verdict.threshold == 3.0);
    CHECK(verdict.reason == "web.service was restarted by systemd 3 times in 190 s: a crash loop (3 within 300 s)");

    // The first restart leaves the window 300 s after it.
    CHECK(detector.observe(restarted(310, 10)).failure);
    verdict = detector.observe(restarted(311, 10));
    CHECK_FALSE(verdict.failure);
    CHECK(verdict.value == 2.0);
    verdict = detector.observe(restarted(601, 10));
    CHECK_FALSE(verdict.firing);
    CHECK(verdict.reason == "web.service was not restarted by systemd in the last 300 s");

    SECTION("several restarts between two ticks count each") {
        CHECK(detector.observe(restarted(602, 13)).failure);
    }
}

TEST_CASE("crash loop: a start by hand sets systemd's count back and begins a new life, and an unknown count is not judged") {
    CrashLoopConfig config;
    config.restarts = 2;
    CrashLoopDetector detector{config};
    detector.observe(restarted(0, 4));
    CHECK(detector.observe(restarted(1, 5)).value == 1.0);
    CHECK(detector.observe(restarted(2, 6)).failure);
    // systemctl restart (an operator's, or healerd's recovery): NRestarts flushed.
    SignalVerdict verdict = detector.observe(restarted(3, 0));
    CHECK_FALSE(verdict.firing);
    CHECK(verdict.value == 0.0);
    CHECK(detector.observe(restarted(4, 1)).value == 1.0);
    CHECK(detector.observe(restarted(5, 2)).failure);

    CrashLoopDetector unknown{CrashLoopConfig{}};
    verdict = unknown.observe(unit_at(0));
    CHECK_FALSE(verdict.firing);
    CHECK(verdict.reason == "restarts of web.service are not judged: systemd's count of them is not known");
}

TEST_CASE("crash loop config: defaults are valid and each invalid field is named") {
    CrashLoopConfig config;
    CHECK(config.restarts == 3);
    CHECK(config.window_sec == 300.0);
    CHECK_NOTHROW(config.validate());
    config.restarts = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("restarts"));
    config = {};
    config.window_sec = 0;
    CHECK_THAT(invalid_field(config), Catch::StartsWith("window_sec"));
    CHECK_THROWS_AS(CrashLoopDetector(config), std::invalid_argument);
}
