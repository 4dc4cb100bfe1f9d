#pragma once
#include <array>
#include <string_view>

#include "core/action.hpp"
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
