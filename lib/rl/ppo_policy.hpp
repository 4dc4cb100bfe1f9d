#pragma once
// A trained network used as healerd's policy.
#include "rl/network.hpp"
#include "rl/policy.hpp"

namespace heal {

class PpoPolicy final : public Policy {
public:
    // Throws std::invalid_argument unless the network maps kObservationSize
    // inputs to kActionCount actions.
    explicit PpoPolicy(ActorCritic<float> network);

    std::string_view name() const override { return "ppo"; }
    // Softmax of the policy logits. Allocates nothing.
    ActionProbabilities probabilities(const Observation& obs) const override;
    const ActorCritic<float>& network() const { return network_; }

private:
    ActorCritic<float> network_;
};

}  // namespace heal
