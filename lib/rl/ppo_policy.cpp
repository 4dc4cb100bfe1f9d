#include "rl/ppo_policy.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace heal {

PpoPolicy::PpoPolicy(ActorCritic<float> network) : network_(std::move(network)) {
    const NetworkShape& shape = network_.shape();
    if (shape.inputs != kObservationSize || shape.actions != kActionCount)
        throw std::invalid_argument(fmt::format("policy network {} does not map {} observations to {} actions",
                                                describe(shape), kObservationSize, kActionCount));
}

ActionProbabilities PpoPolicy::probabilities(const Observation& obs) const {
    const ObservationVector input = encode(obs);
    ActionProbabilities p{};
    network_.logits(input, p);
    softmax(p);
    return p;
}

}  // namespace heal
