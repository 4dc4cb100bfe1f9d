#include "rl/ppo_policy.hpp"

#include <algorithm>
#include <cmath>
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
    const float max_logit = *std::max_element(p.begin(), p.end());
    float sum = 0.0f;
    for (float& v : p) sum += (v = std::exp(v - max_logit));
    for (float& v : p) v /= sum;
    return p;
}

}  // namespace heal
