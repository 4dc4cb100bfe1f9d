#include <catch2/catch.hpp>

#include "rl/failure_env.hpp"
#include "rl/policy.hpp"
#include "observed.hpp"

using namespace heal;
using heal::test::observed;

TEST_CASE("the heuristic follows the documented rules in order") {
    const HeuristicPolicy h;
    CHECK(h.name() == "heuristic");

    Observation o = observed(20, 30, 0);
    CHECK(h.choose(o) == Action::do_nothing);

    o.cpu_anomalous = true;
    CHECK(h.choose(o) == Action::restart);
    o.memory_anomalous = true;  // memory comes first
    CHECK(h.choose(o) == Action::scale_up);

    o = observed(5, 20, 0);
    o.unit_active = false;
    CHECK(h.choose(o) == Action::restart);  // dead, no package change
    o.recent_package_change = true;
    CHECK(h.choose(o) == Action::rollback);  // dead after a package change

    o = observed(50, 50, 2);
    o.recent_package_change = true;
    o.cpu_anomalous = true;
    CHECK(h.choose(o) == Action::restart);  // alive, not yet repeated
    o.failure_count = 3;
    CHECK(h.choose(o) == Action::rollback);  // repeated failures after a package change

    const ActionProbabilities p = h.probabilities(o);
    CHECK(p[static_cast<std::size_t>(Action::rollback)] == 1.0f);
    CHECK(p[0] + p[1] + p[2] + p[3] == 1.0f);
}

TEST_CASE("each heuristic rule picks the best prior action for the failure kind it recognises") {
    const HeuristicPolicy h;
    const FailureModel model;
    const auto best = [&](FailureKind kind, const Observation& o) {
        Action best_action = Action::do_nothing;
        for (Action a : kAllActions)
            if (model.expected_reward(kind, a, o) > model.expected_reward(kind, best_action, o)) best_action = a;
        return best_action;
    };

    Observation runaway = observed(90, 45, 2);
    runaway.cpu_anomalous = true;
    Observation leak = observed(30, 90, 2);
    leak.memory_anomalous = true;
    Observation crash = observed(10, 30, 1);
    crash.unit_active = false;
    Observation deploy = observed(40, 40, 4);
    deploy.recent_package_change = true;
    deploy.unit_active = false;
    const Observation quiet_transient = observed(70, 50, 0);

    CHECK(h.choose(runaway) == best(FailureKind::cpu_runaway, runaway));
    CHECK(h.choose(leak) == best(FailureKind::memory_leak, leak));
    CHECK(h.choose(crash) == best(FailureKind::crash, crash));
    CHECK(h.choose(deploy) == best(FailureKind::bad_deploy, deploy));
    CHECK(h.choose(quiet_transient) == best(FailureKind::transient, quiet_transient));
}
