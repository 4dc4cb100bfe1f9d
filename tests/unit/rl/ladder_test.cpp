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

TEST_CASE("the ladder's first rung is what the failure looks like it needs", "[rl][ladder]") {
    const LadderPolicy ladder;
    Observation leak = observed(20, 90, 1);
    leak.memory_anomalous = true;
    CHECK(choose_among(ladder, leak, all_actions()) == Action::scale_up);
    CHECK(choose_among(ladder, leak, escalation_candidates(all_actions(), set_of({Action::scale_up}))) ==
          Action::restart);

    Observation deploy = observed(0, 10, 1);
    deploy.unit_active = false;
    deploy.recent_package_change = true;
    CHECK(choose_among(ladder, deploy, all_actions()) == Action::rollback);
    // No hook for it: the next rung.
    CHECK(choose_among(ladder, deploy, set_of({Action::restart, Action::scale_up, Action::do_nothing})) ==
          Action::restart);
    const ActionProbabilities p = ladder.probabilities(deploy);
    CHECK(p[2] > p[0]);
    CHECK(p[0] > p[1]);
    CHECK(p[3] == 0.0f);
}
