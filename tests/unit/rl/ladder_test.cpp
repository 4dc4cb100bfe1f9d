#include <catch2/catch.hpp>

#include "core/escalation.hpp"
#include "rl/policy.hpp"
#include "observed.hpp"

using namespace heal;
using heal::test::observed;

namespace {
ActionSet set_of(std::initializer_list<Action> actions) {
    ActionSet set;
    for (const Action action : actions) set.set(static_cast<std::size_t>(action));
    return set;
}
}  // namespace

TEST_CASE("the ladder walks restart, scale_up, rollback, then repeats without scale_up", "[rl][ladder]") {
    const LadderPolicy ladder;
    CHECK(ladder.name() == "ladder");
    const Observation obs = observed(10, 20, 1);
    ActionSet tried;
    std::vector<Action> walked;
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto action = choose_among(ladder, obs, escalation_candidates(all_actions(), tried));
        REQUIRE(action);
        walked.push_back(*action);
        tried.set(static_cast<std::size_t>(*action));
    }
    CHECK(walked == std::vector<Action>{Action::restart, Action::scale_up, Action::rollback, Action::restart,
                                        Action::restart});
}

TEST_CASE("the ladder skips what is not applicable and never chooses do_nothing", "[rl][ladder]") {
    const LadderPolicy ladder;
    const Observation obs = observed(10, 20, 1);
    CHECK(choose_among(ladder, obs, set_of({Action::rollback, Action::do_nothing})) == Action::rollback);
    CHECK_FALSE(choose_among(ladder, obs, set_of({Action::do_nothing})));
    CHECK_FALSE(choose_among(ladder, obs, ActionSet()));
}

TEST_CASE("choose_among takes the most probable candidate", "[rl][ladder]") {
    const HeuristicPolicy heuristic;
    Observation obs = observed(20, 30, 0);
    CHECK(choose_among(heuristic, obs, all_actions()) == Action::do_nothing);
    obs.unit_active = false;
    CHECK(choose_among(heuristic, obs, all_actions()) == Action::restart);
    // The heuristic gives every other action 0: nothing else is chosen.
    CHECK_FALSE(choose_among(heuristic, obs, set_of({Action::rollback})));
}
