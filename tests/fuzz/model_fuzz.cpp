// policy.model: any bytes either load or throw ModelError, and a model of
// the policy's shape that loads gives finite probabilities summing to 1.
#include <cmath>
#include <cstdlib>

#include "fuzz_file.hpp"
#include "rl/model_file.hpp"
#include "rl/ppo_policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        heal::ActorCritic<float> network = heal::load_model(heal::fuzz::write_input(data, size));
        const heal::NetworkShape& shape = network.shape();
        if (shape.inputs != heal::kObservationSize || shape.actions != heal::kActionCount) return 0;
        const heal::PpoPolicy policy(std::move(network));
        float sum = 0.0f;
        for (float p : policy.probabilities(heal::Observation{.cpu_percent = 90.0, .unit_active = false})) {
            if (!std::isfinite(p)) std::abort();
            sum += p;
        }
        if (std::fabs(sum - 1.0f) > 1e-4f) std::abort();
    } catch (const heal::ModelError&) {
    }
    return 0;
}
