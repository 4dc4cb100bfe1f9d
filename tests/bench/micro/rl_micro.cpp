// PPO's two hot paths: one inference (what the daemon does per failure) and
// one PPO update (10 epochs over a 1024-step rollout, what training repeats).
#include <benchmark/benchmark.h>

#include "rl/failure_env.hpp"
#include "rl/incident_env.hpp"
#include "rl/ppo.hpp"
#include "rl/ppo_policy.hpp"

namespace {

void BM_PolicyInference(benchmark::State& state) {
    heal::ActorCritic<float> net(heal::NetworkShape{heal::kObservationSize, {64, 64}, heal::kActionCount});
    heal::Rng rng(1);
    net.initialize(rng);
    const heal::PpoPolicy policy(std::move(net));
    heal::Observation obs;
    obs.cpu_percent = 91;
    obs.memory_percent = 40;
    obs.failure_count = 2;
    obs.cpu_anomalous = true;
    for (auto _ : state) {
        heal::ActionProbabilities p = policy.probabilities(obs);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(BM_PolicyInference);

void BM_PpoUpdate(benchmark::State& state) {
    heal::IncidentEnvironment env(heal::IncidentModel{}, 1);
    const heal::PpoConfig config = heal::recovery_ppo_config();
    heal::PpoTrainer trainer(env, config, 1, static_cast<std::uint64_t>(config.n_steps));
    trainer.collect_rollout();
    for (auto _ : state) {
        heal::LossTerms loss = trainer.update(config.learning_rate);
        benchmark::DoNotOptimize(loss);
    }
    // Samples pushed through forward + backward.
    state.SetItemsProcessed(state.iterations() * config.n_steps * config.epochs);
}
BENCHMARK(BM_PpoUpdate)->Unit(benchmark::kMillisecond);

}  // namespace
