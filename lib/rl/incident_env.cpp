#include "rl/incident_env.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "core/escalation.hpp"

namespace heal {
namespace {

constexpr auto idx = [](auto e) { return static_cast<std::size_t>(e); };

using Effects = std::array<std::array<ActionEffect, kActionCount>, kFailureKindCount>;

ActionEffect effect(double durable, double relapse, double failure, double execution_s, double relapse_delay_s) {
    return {{durable, relapse, failure}, execution_s, relapse_delay_s};
}

// The priors (docs/rl.md has them as a table): P(durable, relapse, failure),
// mean execution time, mean time up before a relapse.
Effects prior_effects() {
    Effects e{};
    //                                  restart                    scale_up
    //                                  rollback                   do_nothing
    e[idx(FailureKind::cpu_runaway)] = {effect(.70, .20, .10, 8, 20), effect(.35, .35, .30, 3, 30),
                                        effect(.30, .10, .60, 30, 20), effect(.10, .10, .80, 5, 10)};
    e[idx(FailureKind::memory_leak)] = {effect(.10, .85, .05, 8, 45), effect(.15, .80, .05, 3, 55),
                                        effect(.50, .20, .30, 30, 30), effect(.02, .08, .90, 5, 10)};
    e[idx(FailureKind::crash)] = {effect(.85, .10, .05, 8, 15), effect(.20, .10, .70, 3, 15),
                                  effect(.50, .10, .40, 30, 15), effect(.05, .05, .90, 5, 10)};
    e[idx(FailureKind::bad_deploy)] = {effect(.05, .80, .15, 8, 5), effect(.05, .30, .65, 3, 5),
                                       effect(.85, .05, .10, 30, 20), effect(.02, .08, .90, 5, 5)};
    e[idx(FailureKind::transient)] = {effect(.75, .10, .15, 8, 20), effect(.70, .10, .20, 3, 20),
                                      effect(.60, .10, .30, 30, 20), effect(.90, .05, .05, 5, 20)};
    return e;
}

AttemptResult result_of(const Outcome& o) {
    if (o.relapsed) return AttemptResult::relapse;
    return o.recovered ? AttemptResult::durable : AttemptResult::failure;
}

void write(const Observation& obs, std::span<float> out) {
    const ObservationVector encoded = encode(obs);
    std::copy(encoded.begin(), encoded.end(), out.begin());
}

}  // namespace

IncidentModel::IncidentModel() : effects_(prior_effects()) {}

IncidentModel IncidentModel::calibrated(std::span<const Outcome> history, const CalibrationSettings& calibration) {
    struct Tally {
        std::array<double, kAttemptResultCount> results{};
        double outcomes = 0, timed = 0, time_sum = 0;
    };
    std::array<std::array<Tally, kActionCount>, kFailureKindCount> tallies{};
    for (const Outcome& o : history) {
        Tally& t = tallies.at(idx(o.kind)).at(idx(o.action));
        ++t.outcomes;
        ++t.results[idx(result_of(o))];
        if (o.recovered && std::isfinite(o.recovery_time_s) && o.recovery_time_s >= 0.0) {
            ++t.timed;
            t.time_sum += o.recovery_time_s;
        }
    }
    IncidentModel model;
    const double w = calibration.success_prior_weight;
    const double tw = calibration.time_prior_weight;
    for (std::size_t k = 0; k < kFailureKindCount; ++k) {
        for (std::size_t a = 0; a < kActionCount; ++a) {
            const Tally& t = tallies[k][a];
            ActionEffect& e = model.effects_[k][a];
            for (std::size_t r = 0; r < kAttemptResultCount; ++r)
                e.probability[r] = (w * e.probability[r] + t.results[r]) / (w + t.outcomes);
            e.execution_s = (tw * e.execution_s + t.time_sum) / (tw + t.timed);
        }
    }
    return model;
}

const ActionEffect& IncidentModel::effect(FailureKind kind, Action action) const {
    return effects_.at(idx(kind)).at(idx(action));
}

double IncidentModel::backoff_s(int attempts) const {
    return std::min(settings_.backoff_cap_s, settings_.backoff_base_s * std::exp2(std::max(0, attempts - 1)));
}

double IncidentModel::expected_downtime_s(FailureKind kind, Action action, AttemptResult result) const {
    const double execution = effect(kind, action).execution_s;
    switch (result) {
    case AttemptResult::durable: return execution;
    case AttemptResult::relapse: return execution + settings_.detection_s;
    case AttemptResult::failure: return execution + settings_.validation_s;
    }
    return execution;
}

IncidentState open_incident(const Observation& first, ActionSet available) {
    IncidentState state;
    state.first = state.current = first;
    state.available = available;
    return state;
}

IncidentEnvironment::IncidentEnvironment(IncidentModel model, std::uint64_t seed)
    : model_(std::move(model)), seed_(seed), rng_(seed) {}

void IncidentEnvironment::reset(std::span<float> observation) {
    rng_ = Rng(derive_seed(seed_, episode_++));
    const FailureCase incident = model_.kinds().sample_case(rng_);
    const IncidentSettings& s = model_.settings();
    ActionSet available;
    available.set(idx(Action::restart)).set(idx(Action::do_nothing));
    if (rng_.bernoulli(s.p_rollback_available)) available.set(idx(Action::rollback));
    if (rng_.bernoulli(s.p_scale_up_available)) available.set(idx(Action::scale_up));
    state_ = open_incident(incident.observation, available);
    state_.kind = incident.kind;
    downtime_s_ = 0.0;
    write(state_.current, observation);
}

ActionSet IncidentEnvironment::legal_actions() const {
    return escalation_candidates(state_.available, state_.tried);
}

StepResult IncidentEnvironment::step(int action_index, std::span<float> observation) {
    if (action_index < 0 || action_index >= kActionCount || !legal_actions().test(idx(action_index)))
        throw std::invalid_argument(fmt::format("incident environment: action {} is not legal here", action_index));
    const auto action = static_cast<Action>(action_index);
    const IncidentSettings& s = model_.settings();
    const ActionEffect& e = model_.effect(state_.kind, action);
    // Three draws whatever the action and the result: the same luck for every policy.
    const double u_result = rng_.uniform();
    const double u_execution = rng_.uniform();
    const double u_delay = rng_.uniform();
    const AttemptResult result = u_result < e.probability[0]                    ? AttemptResult::durable
                                 : u_result < e.probability[0] + e.probability[1] ? AttemptResult::relapse
                                                                                  : AttemptResult::failure;
    double downtime = -e.execution_s * std::log1p(-u_execution);
    double elapsed = downtime;
    if (result == AttemptResult::relapse) {
        elapsed += std::min(s.stable_s, -e.relapse_delay_s * std::log1p(-u_delay)) + s.detection_s;
        downtime += s.detection_s;
    } else if (result == AttemptResult::failure) {
        elapsed += s.validation_s;
        downtime += s.validation_s;
    }

    state_.tried.set(idx(action));
    state_.attempts.push_back({action, result});
    Observation& obs = state_.current;
    obs.attempts = static_cast<int>(state_.attempts.size());
    obs.last_action = action;
    obs.last_relapsed = result == AttemptResult::relapse;
    if (obs.last_relapsed) ++obs.relapses;

    bool terminated = result == AttemptResult::durable;
    if (!terminated) {
        if (obs.attempts >= s.max_attempts || legal_actions().none()) {
            downtime += s.give_up_s;
            terminated = true;
        } else {
            const double backoff = model_.backoff_s(obs.attempts);
            downtime += backoff;
            elapsed += backoff;
        }
    }
    obs.seconds_open += elapsed;
    downtime_s_ += downtime;
    write(obs, observation);
    return {-downtime - s.action_cost[idx(action)], terminated, false};
}

namespace {

using Belief = std::array<double, kFailureKindCount>;  // unnormalised

// Exact expectimax over the attempts still possible. Values are of the
// unnormalised belief (they scale with its mass), so a child's belief is
// the parent's times the likelihood of the result, with no division.
class Search {
public:
    Search(const IncidentModel& model, ActionSet available) : model_(model), available_(available) {}

    // Expected return of the best action and that action.
    std::pair<double, Action> best(const Belief& belief, ActionSet tried, int attempts, std::uint32_t counts) {
        const ActionSet legal = escalation_candidates(available_, tried);
        if (legal.none()) throw std::logic_error("incident oracle: no legal action left");
        std::pair<double, Action> best{-std::numeric_limits<double>::infinity(), Action::restart};
        for (const Action a : kAllActions) {
            if (!contains(legal, a)) continue;
            const double q = action_value(belief, tried, attempts, counts, a);
            if (q > best.first) best = {q, a};
        }
        return best;
    }

private:
    double action_value(const Belief& belief, ActionSet tried, int attempts, std::uint32_t counts, Action a) {
        const IncidentSettings& s = model_.settings();
        double mass = 0.0, q = 0.0;
        for (std::size_t k = 0; k < kFailureKindCount; ++k) {
            const auto kind = static_cast<FailureKind>(k);
            const ActionEffect& e = model_.effect(kind, a);
            mass += belief[k];
            for (std::size_t r = 0; r < kAttemptResultCount; ++r)
                q -= belief[k] * e.probability[r] * model_.expected_downtime_s(kind, a, static_cast<AttemptResult>(r));
        }
        q -= mass * s.action_cost[idx(a)];
        ActionSet next_tried = tried;
        next_tried.set(idx(a));
        const int next_attempts = attempts + 1;
        const bool gives_up =
            next_attempts >= s.max_attempts || escalation_candidates(available_, next_tried).none();
        for (const AttemptResult r : {AttemptResult::relapse, AttemptResult::failure}) {
            Belief next{};
            double next_mass = 0.0;
            for (std::size_t k = 0; k < kFailureKindCount; ++k) {
                next[k] = belief[k] * model_.effect(static_cast<FailureKind>(k), a).probability[idx(r)];
                next_mass += next[k];
            }
            if (next_mass <= 0.0) continue;
            if (gives_up) {
                q -= next_mass * s.give_up_s;
                continue;
            }
            q -= next_mass * model_.backoff_s(next_attempts);
            q += value(next, next_tried, next_attempts, counts + count_bit(a, r));
        }
        return q;
    }

    double value(const Belief& belief, ActionSet tried, int attempts, std::uint32_t counts) {
        // The belief is the root's times the likelihoods of the results so
        // far, so the tried set and the count of each (action, result) pair
        // determine the node.
        const std::uint64_t key = (static_cast<std::uint64_t>(counts) << 8) | tried.to_ulong();
        if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
        const double v = best(belief, tried, attempts, counts).first;
        memo_.emplace(key, v);
        return v;
    }

    // Three bits per (action, relapse/failure) pair: at most 5 attempts.
    static std::uint32_t count_bit(Action a, AttemptResult r) {
        return 1u << (3 * (2 * idx(a) + (r == AttemptResult::relapse ? 0 : 1)));
    }

    const IncidentModel& model_;
    ActionSet available_;
    std::unordered_map<std::uint64_t, double> memo_;
};

std::pair<double, Action> search(const IncidentModel& model, const IncidentState& state) {
    Belief belief = model.kinds().kind_posterior(state.first);
    for (const Attempt& attempt : state.attempts)
        for (std::size_t k = 0; k < kFailureKindCount; ++k)
            belief[k] *= model.effect(static_cast<FailureKind>(k), attempt.action).probability[idx(attempt.result)];
    double mass = 0.0;
    for (double b : belief) mass += b;
    // Results the model calls impossible leave no belief: fall back to the kind frequencies.
    if (!(mass > 0.0)) {
        for (std::size_t k = 0; k < kFailureKindCount; ++k)
            belief[k] = model.kinds().profile(static_cast<FailureKind>(k)).frequency;
        mass = 1.0;
    }
    for (double& b : belief) b /= mass;
    Search tree(model, state.available);
    return tree.best(belief, state.tried, static_cast<int>(state.attempts.size()), 0);
}

}  // namespace

Action IncidentOracle::choose(const IncidentState& state) const { return search(model_, state).second; }

double IncidentOracle::value(const IncidentState& state) const { return search(model_, state).first; }

IncidentChooser chooser_of(const Policy& policy) {
    return [&policy](const IncidentState& state, ActionSet legal) {
        static const LadderPolicy ladder;
        if (const auto action = choose_among(policy, state.current, legal)) return *action;
        if (const auto action = choose_among(ladder, state.current, legal)) return *action;
        return Action::do_nothing;
    };
}

IncidentScore evaluate_incidents(const IncidentModel& model, const IncidentChooser& choose, int episodes,
                                 std::uint64_t seed) {
    IncidentEnvironment env(model, seed);
    std::array<float, kObservationSize> observation{};
    IncidentScore score;
    for (int i = 0; i < episodes; ++i) {
        env.reset(observation);
        for (bool done = false; !done;) {
            const StepResult r = env.step(static_cast<int>(choose(env.state(), env.legal_actions())), observation);
            score.mean_reward += r.reward;
            done = r.terminated;
        }
        score.mean_downtime_s += env.episode_downtime_s();
        score.mean_attempts += static_cast<double>(env.state().attempts.size());
    }
    if (episodes > 0)
        for (double* v : {&score.mean_reward, &score.mean_downtime_s, &score.mean_attempts}) *v /= episodes;
    return score;
}

PpoConfig recovery_ppo_config() {
    PpoConfig config = failure_ppo_config();
    config.hidden = {32, 32};
    config.n_steps = 512;
    config.epochs = 4;
    config.gamma = 1.0;
    config.reward_scale = 0.01;
    return config;
}

}  // namespace heal
