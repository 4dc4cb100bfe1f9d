#pragma once
// What PPO trains against: an episodic environment with discrete actions and
// a float observation vector (Gymnasium's reset/step contract), and
// optionally a mask of the actions legal in the current state.
#include <span>

#include "core/action_set.hpp"

namespace heal {

struct StepResult {
    double reward = 0.0;
    bool terminated = false;  // the episode reached a terminal state: no future value
    bool truncated = false;   // the episode was cut short (time limit): the future still has value
};

class Environment {
public:
    virtual ~Environment() = default;
    virtual int observation_size() const = 0;
    virtual int action_count() const = 0;
    // Starts an episode and writes its first observation.
    virtual void reset(std::span<float> observation) = 0;
    // Applies an action and writes the observation it leads to (when the
    // episode ends, the final one: truncation bootstraps from its value).
    virtual StepResult step(int action, std::span<float> observation) = 0;
    // The actions the current state allows, bit a for action a (actions
    // beyond the set's kActionCount bits cannot be masked). PPO never samples
    // an illegal one and trains as if its probability were 0. Default: all.
    virtual ActionSet legal_actions() const { return all_actions(); }
};

}  // namespace heal
