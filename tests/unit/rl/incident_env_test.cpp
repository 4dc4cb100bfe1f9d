#include <catch2/catch.hpp>

#include <array>
#include <numeric>
#include <vector>

#include "core/escalation.hpp"
#include "rl/incident_env.hpp"
#include "rl/policy.hpp"

using namespace heal;

namespace {
constexpr auto idx = [](auto e) { return static_cast<std::size_t>(e); };

// Uniform among the legal actions, from its own stream.
class RandomChooser {
public:
    explicit RandomChooser(std::uint64_t seed) : rng_(seed) {}
    Action operator()(const IncidentState&, ActionSet legal) {
        std::uint64_t pick = rng_.below(legal.count());
        for (const Action a : kAllActions)
            if (contains(legal, a) && pick-- == 0) return a;
        FAIL("no legal action");
        return Action::do_nothing;
    }

private:
    Rng rng_;
};
}  // namespace

TEST_CASE("the priors are distributions and favour the documented actions", "[rl][incident]") {
    const IncidentModel model;
    for (int k = 0; k < kFailureKindCount; ++k)
        for (const Action a : kAllActions) {
            const auto& p = model.effect(static_cast<FailureKind>(k), a).probability;
            CHECK(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0));
        }
    const auto p = [&](FailureKind k, Action a, AttemptResult r) { return model.effect(k, a).probability[idx(r)]; };
    CHECK(p(FailureKind::crash, Action::restart, AttemptResult::durable) == 0.85);
    CHECK(p(FailureKind::bad_deploy, Action::restart, AttemptResult::relapse) == 0.80);
    CHECK(p(FailureKind::bad_deploy, Action::rollback, AttemptResult::durable) == 0.85);
    CHECK(p(FailureKind::memory_leak, Action::rollback, AttemptResult::durable) == 0.50);
    CHECK(p(FailureKind::cpu_runaway, Action::restart, AttemptResult::durable) == 0.70);
    CHECK(p(FailureKind::transient, Action::do_nothing, AttemptResult::durable) == 0.90);
    CHECK(model.effect(FailureKind::memory_leak, Action::restart).relapse_delay_s >
          model.effect(FailureKind::crash, Action::restart).relapse_delay_s);
    CHECK(model.backoff_s(1) == 10.0);
    CHECK(model.backoff_s(3) == 40.0);
    CHECK(model.backoff_s(9) == 300.0);
}

TEST_CASE("every incident ends within the attempt budget, only legal actions are accepted", "[rl][incident]") {
    IncidentEnvironment env(IncidentModel{}, 3);
    std::array<float, kObservationSize> obs{};
    RandomChooser choose(4);
    for (int episode = 0; episode < 500; ++episode) {
        env.reset(obs);
        CHECK(contains(env.state().available, Action::restart));
        CHECK(contains(env.state().available, Action::do_nothing));
        CHECK(env.legal_actions() == env.state().available);
        double returned = 0.0;
        bool done = false;
        int steps = 0;
        while (!done) {
            const ActionSet legal = env.legal_actions();
            REQUIRE(legal.any());
            CHECK(legal == escalation_candidates(env.state().available, env.state().tried));
            for (const Action a : kAllActions)
                if (!contains(legal, a)) CHECK_THROWS_AS(env.step(static_cast<int>(a), obs), std::invalid_argument);
            const StepResult r = env.step(static_cast<int>(choose(env.state(), legal)), obs);
            ++steps;
            CHECK(r.reward < 0.0);
            CHECK_FALSE(r.truncated);
            returned += r.reward;
            done = r.terminated;
            for (float v : obs) {
                CHECK(v >= 0.0f);
                CHECK(v <= 1.0f);
            }
            const Observation& current = env.state().current;
            CHECK(current.attempts == steps);
            CHECK(current.last_action == env.state().attempts.back().action);
        }
        CHECK(steps <= 5);
        const Attempt& last = env.state().attempts.back();
        // Given up (5 attempts, 600 s charged) or healed for good.
        if (last.result != AttemptResult::durable) {
            CHECK(steps == 5);
            CHECK(env.episode_downtime_s() >= 600.0);
        }
        CHECK(-returned >= env.episode_downtime_s());
    }
}

TEST_CASE("a relapse, a failure and the backoff are charged as downtime", "[rl][incident]") {
    // The ladder through 200 incidents: each step's reward against its parts.
    const IncidentModel model;
    IncidentEnvironment env(model, 1);
    std::array<float, kObservationSize> obs{};
    const LadderPolicy ladder;
    const IncidentSettings& s = model.settings();
    for (int episode = 0; episode < 200; ++episode) {
        env.reset(obs);
        for (bool done = false; !done;) {
            const Action a = *choose_among(ladder, env.state().current, env.legal_actions());
            const double before = env.episode_downtime_s();
            const double open_before = env.state().current.seconds_open;
            const StepResult r = env.step(static_cast<int>(a), obs);
            done = r.terminated;
            const double downtime = env.episode_downtime_s() - before;
            CHECK(r.reward == Approx(-downtime - s.action_cost[idx(a)]));
            const AttemptResult result = env.state().attempts.back().result;
            const int n = env.state().current.attempts;
            const double extra = result == AttemptResult::relapse ? s.detection_s
                                 : result == AttemptResult::failure ? s.validation_s
                                                                    : 0.0;
            const double after = result == AttemptResult::durable ? 0.0 : done ? s.give_up_s : model.backoff_s(n);
            CHECK(downtime >= extra + after);  // plus the execution time
            CHECK(env.state().current.seconds_open > open_before);
            CHECK(env.state().current.last_relapsed == (result == AttemptResult::relapse));
        }
    }
}

TEST_CASE("the oracle beats the ladder and random, on the same incidents", "[rl][incident]") {
    const IncidentModel model;
    const IncidentOracle oracle(model);
    const LadderPolicy ladder;
    const int episodes = 4000;
    const IncidentScore best = evaluate_incidents(
        model, [&](const IncidentState& s, ActionSet) { return oracle.choose(s); }, episodes, 9);
    const IncidentScore walked = evaluate_incidents(
        model, [&](const IncidentState& s, ActionSet legal) { return *choose_among(ladder, s.current, legal); },
        episodes, 9);
    const IncidentScore random = evaluate_incidents(model, RandomChooser(5), episodes, 9);
    CHECK(best.mean_reward > walked.mean_reward + 10.0);
    CHECK(best.mean_reward > random.mean_reward + 30.0);
    CHECK(best.mean_downtime_s < walked.mean_downtime_s);
    // Its own estimate of a fresh incident's value agrees with the simulation.
    IncidentEnvironment env(model, 9);
    std::array<float, kObservationSize> obs{};
    double predicted = 0.0;
    for (int i = 0; i < episodes; ++i) {
        env.reset(obs);
        predicted += oracle.value(env.state());
    }
    CHECK(predicted / episodes == Approx(best.mean_reward).epsilon(0.05));
}

TEST_CASE("the oracle escalates on what each result says about the kind", "[rl][incident]") {
    const IncidentOracle oracle{IncidentModel{}};
    // A dead unit, no package change: a crash most likely, so restart first.
    Observation dead;
    dead.cpu_percent = 10;
    dead.memory_percent = 30;
    dead.unit_active = false;
    IncidentState state = open_incident(dead, all_actions());
    CHECK(oracle.choose(state) == Action::restart);
    // A unit down at moderate CPU: a crash or a transient, maybe a bad
    // deploy. Restart first; what comes next depends on how it went.
    Observation ambiguous;
    ambiguous.cpu_percent = 59;
    ambiguous.memory_percent = 38;
    ambiguous.failure_count = 1;
    ambiguous.unit_active = false;
    IncidentState after = open_incident(ambiguous, all_actions());
    REQUIRE(oracle.choose(after) == Action::restart);
    after.tried.set(idx(Action::restart));
    after.attempts.push_back({Action::restart, AttemptResult::relapse});
    // Relapsed: what restarts do not cure (a deploy, a leak): roll back.
    CHECK(oracle.choose(after) == Action::rollback);
    // Failed outright: a transient more likely than before: wait.
    after.attempts.back().result = AttemptResult::failure;
    CHECK(oracle.choose(after) == Action::do_nothing);
}

TEST_CASE("calibration moves the result probabilities toward stored attempts (Dirichlet)", "[rl][incident]") {
    std::vector<Outcome> history;
    // Restart on crashes: 20 relapses, 10 failures, 10 durable successes in 4 s.
    for (int i = 0; i < 20; ++i) history.push_back({Action::restart, FailureKind::crash, true, 2.0, true});
    for (int i = 0; i < 10; ++i) history.push_back({Action::restart, FailureKind::crash, false, 0.0, false});
    for (int i = 0; i < 10; ++i) history.push_back({Action::restart, FailureKind::crash, true, 4.0, false});
    const IncidentModel prior;
    const IncidentModel model = IncidentModel::calibrated(history);
    const auto& p0 = prior.effect(FailureKind::crash, Action::restart);
    const auto& p = model.effect(FailureKind::crash, Action::restart);
    // Prior worth 5 attempts: (5 p0 + n) / (5 + 40).
    CHECK(p.probability[idx(AttemptResult::durable)] == Approx((5 * 0.85 + 10) / 45.0));
    CHECK(p.probability[idx(AttemptResult::relapse)] == Approx((5 * 0.10 + 20) / 45.0));
    CHECK(p.probability[idx(AttemptResult::failure)] == Approx((5 * 0.05 + 10) / 45.0));
    CHECK(p.probability[idx(AttemptResult::relapse)] > p0.probability[idx(AttemptResult::relapse)]);
    // Execution time of the 30 recovered attempts, prior worth 5.
    CHECK(p.execution_s == Approx((5 * p0.execution_s + 20 * 2.0 + 10 * 4.0) / 35.0));
    // Untouched cells keep their priors.
    CHECK(model.effect(FailureKind::crash, Action::rollback).probability ==
          prior.effect(FailureKind::crash, Action::rollback).probability);
}

// A unit whose crashes a restart does not fix and its rollback hook does
// (tests/system/learning-test.sh): each incident stores "restart relapsed"
// and "rollback recovered" in 0.5 s. The default prior weight lets the model
// learn that within 10 incidents; the former weight, 10, did not.
TEST_CASE("stored crashes only a rollback heals turn the oracle to rollback first after 6 incidents",
          "[rl][incident]") {
    Observation dead;  // a crash as the priors draw one: the unit died, no package changed
    dead.cpu_percent = 5;
    dead.memory_percent = 10;
    dead.failure_count = 1;
    dead.unit_active = false;
    ActionSet available;  // no memory limit to raise
    available.set(idx(Action::restart)).set(idx(Action::rollback)).set(idx(Action::do_nothing));
    const auto first_action = [&](int incidents, bool relapsed, double prior_weight) {
        std::vector<Outcome> history;
        for (int i = 0; i < incidents; ++i) {
            history.push_back({Action::restart, FailureKind::crash, relapsed, relapsed ? 0.5 : 0.0, relapsed});
            history.push_back({Action::rollback, FailureKind::crash, true, 0.5, false});
        }
        CalibrationSettings calibration;
        calibration.success_prior_weight = prior_weight;
        const IncidentOracle oracle(IncidentModel::calibrated(history, calibration));
        return oracle.choose(open_incident(dead, available));
    };
    const auto first_rollback = [&](bool relapsed, double prior_weight) {
        int n = 0;
        while (n <= 10 && first_action(n, relapsed, prior_weight) != Action::rollback) ++n;
        return n;  // 11: not within 10 incidents
    };
    CHECK(CalibrationSettings{}.success_prior_weight == 5.0);
    // Restarts that relapse: rollback first from the 6th incident on.
    CHECK(first_rollback(true, 5.0) == 6);
    for (int n = 6; n <= 10; ++n) CHECK(first_action(n, true, 5.0) == Action::rollback);
    // Restarts that fail outright say it sooner.
    CHECK(first_rollback(false, 5.0) == 4);
    // With the former weight of 10 the oracle still restarts first after 9 incidents.
    CHECK(first_rollback(true, 10.0) == 10);
}
