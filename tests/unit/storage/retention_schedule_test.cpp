#include "storage/retention_schedule.hpp"

#include <catch2/catch.hpp>

using namespace heal;
using namespace std::chrono_literals;

TEST_CASE("retention runs at once, then on its cadence", "[storage]") {
    RetentionSchedule schedule(10min);
    const RetentionSchedule::Clock::time_point t0{};
    const Retention by_age{std::chrono::hours(24), std::nullopt};
    CHECK(schedule.due(by_age, t0, 0));
    schedule.ran(t0, 0);
    CHECK_FALSE(schedule.due(by_age, t0 + 9min, 1'000'000));  // no MaxRows=: rows do not matter
    CHECK(schedule.due(by_age, t0 + 10min, 0));
    schedule.reset();
    CHECK(schedule.due(by_age, t0 + 1s, 0));
}

TEST_CASE("retention also runs after every tenth of MaxRows inserted", "[storage]") {
    RetentionSchedule schedule(10min);
    const RetentionSchedule::Clock::time_point t0{};
    const Retention by_rows{std::nullopt, 5000};
    schedule.ran(t0, 12'000);
    CHECK_FALSE(schedule.due(by_rows, t0 + 1s, 12'499));
    CHECK(schedule.due(by_rows, t0 + 1s, 12'500));
    schedule.ran(t0 + 1s, 12'500);
    CHECK_FALSE(schedule.due(by_rows, t0 + 2s, 12'999));
    // A tiny MaxRows= still makes progress row by row.
    const Retention tiny{std::nullopt, 3};
    CHECK(schedule.due(tiny, t0 + 2s, 12'501));
}
