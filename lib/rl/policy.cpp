#include "rl/policy.hpp"

#include <algorithm>

namespace heal {

ObservationVector encode(const Observation& obs) {
    const auto flag = [](bool b) { return b ? 1.0f : 0.0f; };
    const auto last = [&](Action a) { return flag(obs.last_action == a); };
    return {
        static_cast<float>(std::clamp(obs.cpu_percent, 0.0, 100.0) / 100.0),
        static_cast<float>(std::clamp(obs.memory_percent, 0.0, 100.0) / 100.0),
        static_cast<float>(std::clamp(obs.failure_count, 0, 10)) / 10.0f,
        flag(obs.cpu_anomalous),
        flag(obs.memory_anomalous),
        flag(!obs.unit_active),
        flag(obs.recent_package_change),
        static_cast<float>(std::clamp(obs.attempts, 0, 5)) / 5.0f,
        last(Action::restart),
        last(Action::scale_up),
        last(Action::rollback),
        last(Action::do_nothing),
        flag(obs.last_relapsed),
        static_cast<float>(std::clamp(obs.seconds_open, 0.0, 600.0) / 600.0),
        static_cast<float>(std::clamp(obs.relapses, 0, 5)) / 5.0f,
    };
}

Action Policy::choose(const Observation& obs) const {
    const ActionProbabilities p = probabilities(obs);
    return static_cast<Action>(std::max_element(p.begin(), p.end()) - p.begin());
}

std::optional<Action> choose_among(const Policy& policy, const Observation& obs, ActionSet candidates) {
    const ActionProbabilities p = policy.probabilities(obs);
    std::optional<Action> best;
    for (const Action action : kAllActions) {
        const float probability = p[static_cast<std::size_t>(action)];
        if (!contains(candidates, action) || !(probability > 0.0f)) continue;
        if (!best || probability > p[static_cast<std::size_t>(*best)]) best = action;
    }
    return best;
}


namespace {
Action heuristic_action(const Observation& obs) {
    const bool repeated = obs.failure_count >= 3;
    if (obs.recent_package_change && (!obs.unit_active || repeated)) return Action::rollback;
    if (!obs.unit_active) return Action::restart;
    if (obs.memory_anomalous) return Action::scale_up;
    if (obs.cpu_anomalous) return Action::restart;
    return Action::do_nothing;
}
}  // namespace

ActionProbabilities LadderPolicy::probabilities(const Observation& obs) const {
    // The first rung is what the failure looks like it needs; then the fixed order.
    std::array<Action, 4> rungs{heuristic_action(obs), Action::restart, Action::scale_up, Action::rollback};
    constexpr std::array<float, 3> kWeights{0.5f, 0.3f, 0.2f};
    ActionProbabilities p{};
    std::size_t next = 0;
    for (const Action rung : rungs) {
        float& weight = p[static_cast<std::size_t>(rung)];
        if (rung == Action::do_nothing || weight > 0.0f) continue;
        weight = kWeights[next++];
    }
    return p;
}

ActionProbabilities HeuristicPolicy::probabilities(const Observation& obs) const {
    ActionProbabilities p{};
    p[static_cast<std::size_t>(heuristic_action(obs))] = 1.0f;
    return p;
}

}  // namespace heal
