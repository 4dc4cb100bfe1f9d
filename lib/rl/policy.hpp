#pragma once
#include <array>
#include <optional>
#include <string_view>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "rl/observation.hpp"

namespace heal {

using ActionProbabilities = std::array<float, kActionCount>;

// Chooses a recovery action for an observed failure.
class Policy {
public:
    virtual ~Policy() = default;
    virtual std::string_view name() const = 0;  // "ppo", "heuristic", ...
    virtual ActionProbabilities probabilities(const Observation& obs) const = 0;
    // The most probable action (what the daemon executes).
    Action choose(const Observation& obs) const;
};

// Among `candidates`, the action the policy ranks highest; an action the
// policy gives probability 0 is never chosen. nullopt when nothing is left:
// the incident is given up.
std::optional<Action> choose_among(const Policy& policy, const Observation& obs, ActionSet candidates);

// The default without a trained model. Its first rung is the action the
// failure looks like it needs (the heuristic's rules: a dead unit after a
// package change -> rollback, a dead unit -> restart, memory -> scale_up,
// CPU -> restart), then restart, scale_up, rollback in that order, never
// do_nothing. With escalation_candidates it walks that ladder, skipping what
// is not applicable, then repeats it until the attempt budget is spent.
class LadderPolicy final : public Policy {
public:
    std::string_view name() const override { return "ladder"; }
    ActionProbabilities probabilities(const Observation& obs) const override;
};

// The original design's fallback, used when no model is loaded:
// unit dead or failing repeatedly after a package change -> rollback,
// unit dead otherwise -> restart, memory high -> scale_up, CPU high -> restart,
// otherwise do_nothing.
class HeuristicPolicy final : public Policy {
public:
    std::string_view name() const override { return "heuristic"; }
    ActionProbabilities probabilities(const Observation& obs) const override;
};

}  // namespace heal
