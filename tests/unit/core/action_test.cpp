#include <catch2/catch.hpp>

#include "core/action.hpp"

using namespace heal;

TEST_CASE("action names round-trip and unknown names are rejected") {
    for (Action a : kAllActions) CHECK(parse_action(to_string(a)) == a);
    CHECK(to_string(Action::scale_up) == "scale_up");
    CHECK_FALSE(parse_action("reboot").has_value());
    CHECK_FALSE(parse_action("").has_value());
}

TEST_CASE("failure kind names round-trip") {
    for (int i = 0; i < kFailureKindCount; ++i) {
        const auto kind = static_cast<FailureKind>(i);
        CHECK(parse_failure_kind(to_string(kind)) == kind);
    }
    CHECK_FALSE(parse_failure_kind("meteor").has_value());
}

TEST_CASE("reward follows the original design") {
    CHECK(recovery_reward(true, 0.0) == Approx(10.0));
    CHECK(recovery_reward(true, 1.5) == Approx(7.0));
    CHECK(recovery_reward(true, 4.0) == Approx(2.0));   // floor at 2
    CHECK(recovery_reward(true, 30.0) == Approx(2.0));
    CHECK(recovery_reward(false, 0.5) == Approx(-10.0));
}
