#include <catch2/catch.hpp>

#include <array>
#include <numeric>

#include "rl/failure_env.hpp"
#include "observed.hpp"

using namespace heal;
using heal::test::observed;

namespace {
constexpr auto idx = [](auto e) { return static_cast<std::size_t>(e); };
}  // namespace

TEST_CASE("the priors average to the original design's success rates") {
    const FailureModel model;
    const std::array<double, kActionCount> design{0.70, 0.60, 0.50, 0.20};
    for (Action a : kAllActions) {
        double rate = 0.0;
        double frequencies = 0.0;
        for (int k = 0; k < kFailureKindCount; ++k) {
            const KindProfile& p = model.profile(static_cast<FailureKind>(k));
            rate += p.frequency * p.success[idx(a)];
            frequencies += p.frequency;
        }
        INFO(to_string(a));
        CHECK(rate == Approx(design[idx(a)]).margin(0.03));
        CHECK(frequencies == Approx(1.0));
    }
}

TEST_CASE("restart does better under stress and scale_up under memory pressure") {
    const FailureModel model;
    CHECK(model.success_probability(FailureKind::crash, Action::restart, observed(90, 20, 0)) >
          model.success_probability(FailureKind::crash, Action::restart, observed(20, 20, 0)));
    CHECK(model.success_probability(FailureKind::crash, Action::scale_up, observed(20, 90, 0)) >
          model.success_probability(FailureKind::crash, Action::scale_up, observed(90, 20, 0)));
    CHECK(model.success_probability(FailureKind::crash, Action::rollback, observed(90, 90, 0)) ==
          model.profile(FailureKind::crash).success[idx(Action::rollback)]);
}

TEST_CASE("expected rewards agree with simulated outcomes") {
    const FailureModel model;
    Rng rng(17);
    for (int k = 0; k < kFailureKindCount; ++k) {
        const FailureCase incident = model.sample_case(rng);
        for (Action a : kAllActions) {
            double total = 0.0;
            const int n = 40'000;
            for (int i = 0; i < n; ++i) {
                const Outcome o = model.resolve(incident, a, rng);
                total += recovery_reward(o.recovered, o.recovery_time_s);
            }
            INFO(to_string(incident.kind) << " " << to_string(a));
            CHECK(total / n == Approx(model.expected_reward(incident.kind, a, incident.observation)).margin(0.15));
        }
    }
}

TEST_CASE("the kind posterior follows what each kind can look like") {
    const FailureModel model;
    // cpu 55 and memory 50 with no failures: only a transient looks like this.
    auto posterior = model.kind_posterior(observed(55, 50, 0));
    CHECK(posterior[idx(FailureKind::transient)] == Approx(1.0));
    // A dead unit just after a package change: most likely a bad deploy.
    Observation dead = observed(20, 40, 2);
    dead.unit_active = false;
    dead.recent_package_change = true;
    posterior = model.kind_posterior(dead);
    CHECK(std::accumulate(posterior.begin(), posterior.end(), 0.0) == Approx(1.0));
    CHECK(posterior[idx(FailureKind::bad_deploy)] > 0.5);
    // Nothing produces cpu 99 and memory 99 at once: the frequencies stand.
    posterior = model.kind_posterior(observed(99, 99, 0));
    CHECK(posterior[idx(FailureKind::cpu_runaway)] == Approx(model.profile(FailureKind::cpu_runaway).frequency));
}

TEST_CASE("the oracle beats the heuristic, which beats every fixed action") {
    const FailureModel model;
    const OraclePolicy oracle(model);
    const HeuristicPolicy heuristic;
    const int episodes = 20'000;
    const double oracle_reward =
        evaluate_mean_reward(model, [&](const Observation& o) { return oracle.choose(o); }, episodes, 5);
    const double heuristic_reward =
        evaluate_mean_reward(model, [&](const Observation& o) { return heuristic.choose(o); }, episodes, 5);
    CHECK(oracle_reward > heuristic_reward + 0.5);
    for (Action a : kAllActions) {
        INFO(to_string(a));
        CHECK(heuristic_reward > evaluate_mean_reward(model, [a](const Observation&) { return a; }, episodes, 5));
    }
}

TEST_CASE("an incident is a one-step episode with the original design's reward") {
    FailureEnvironment env(FailureModel{}, 3);
    std::array<float, kObservationSize> obs{};
    for (int i = 0; i < 200; ++i) {
        env.reset(obs);
        for (float v : obs) {
            CHECK(v >= 0.0f);
            CHECK(v <= 1.0f);
        }
        const StepResult r = env.step(i % kActionCount, obs);
        CHECK(r.terminated);
        CHECK_FALSE(r.truncated);
        const bool valid = r.reward == -10.0 || (r.reward >= 2.0 && r.reward <= 10.0);
        CHECK(valid);
    }
}

TEST_CASE("calibration blends stored outcomes into the priors (Beta-Bernoulli)") {
    std::vector<Outcome> history;
    for (int i = 0; i < 30; ++i) history.push_back({Action::rollback, FailureKind::crash, true, 1.0});
    for (int i = 0; i < 10; ++i) history.push_back({Action::restart, FailureKind::crash, false, 0.0});
    history.push_back({Action::restart, FailureKind::crash, true, -4.0});  // a bad time is not used
    const FailureModel prior;
    const FailureModel model = FailureModel::calibrated(history);
    const auto& p = prior.profile(FailureKind::crash);
    const auto& c = model.profile(FailureKind::crash);
    // Prior worth 5 outcomes: (5 p0 + successes) / (5 + outcomes).
    CHECK(c.success[idx(Action::rollback)] == Approx((5 * 0.5 + 30) / 35.0));
    CHECK(c.success[idx(Action::restart)] == Approx((5 * 0.9 + 1) / 16.0));
    // Prior mean time worth 5 recoveries.
    CHECK(c.recovery_time[idx(Action::rollback)] == Approx((5 * 3.0 + 30 * 1.0) / 35.0));
    CHECK(c.recovery_time[idx(Action::restart)] == Approx(p.recovery_time[idx(Action::restart)]));
    // Untouched cells keep their priors.
    CHECK(c.success[idx(Action::scale_up)] == p.success[idx(Action::scale_up)]);
    CHECK(model.profile(FailureKind::transient).success == prior.profile(FailureKind::transient).success);
}
