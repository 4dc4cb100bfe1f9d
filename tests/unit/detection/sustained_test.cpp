#include "detection/sustained.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"

using heal::SustainedCondition;
using heal::test::at;

TEST_CASE("sustained: holds since the first tick of a run and meets ForSec exactly at it") {
    SustainedCondition condition{10.0, 3.0};
    CHECK_FALSE(condition.holding());
    for (int second = 0; second < 10; ++second) {
        condition.observe(at(second), true);
        CHECK(condition.held_sec() == second);
        CHECK_FALSE(condition.met());
    }
    condition.observe(at(10), true);
    CHECK(condition.since() == at(0));
    CHECK(condition.held_sec() == 10.0);
    CHECK(condition.met());
    CHECK(condition.met(10.0));
    CHECK_FALSE(condition.met(10.5));
}

TEST_CASE("sustained: a false tick, a missing reading, a long gap or time going back starts over") {
    SustainedCondition condition{5.0, 3.0};
    for (int second = 0; second <= 6; ++second) condition.observe(at(second), true);
    REQUIRE(condition.met());

    SECTION("a false tick") {
        condition.observe(at(7), false);
        CHECK_FALSE(condition.holding());
        CHECK(condition.held_sec() == 0.0);
        condition.observe(at(8), true);
        CHECK(condition.since() == at(8));
    }
    SECTION("a missing reading") {
        condition.interrupt();
        condition.observe(at(7), true);
        CHECK(condition.since() == at(7));
        CHECK_FALSE(condition.met());
    }
    SECTION("a gap longer than max_gap, but not one equal to it") {
        condition.observe(at(9), true);
        CHECK(condition.since() == at(0));
        condition.observe(at(12.5), true);
        CHECK(condition.since() == at(12.5));
        CHECK_FALSE(condition.met());
    }
    SECTION("time going backwards") {
        condition.observe(at(4), true);
        CHECK(condition.since() == at(4));
    }
}

TEST_CASE("sustained: ForSec 0 is met at the first tick, and invalid durations are named") {
    SustainedCondition at_once{0.0, 1.0};
    at_once.observe(at(0), true);
    CHECK(at_once.met());
    CHECK_THROWS_WITH(SustainedCondition(-1.0, 1.0), Catch::StartsWith("for_sec"));
    CHECK_THROWS_WITH(SustainedCondition(NAN, 1.0), Catch::StartsWith("for_sec"));
    CHECK_THROWS_WITH(SustainedCondition(1.0, 0.0), Catch::StartsWith("max_gap_sec"));
    CHECK_THROWS_WITH(SustainedCondition(1.0, INFINITY), Catch::StartsWith("max_gap_sec"));
}
