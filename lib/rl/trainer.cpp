#include "rl/trainer.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "rl/incident_env.hpp"
#include "rl/model_file.hpp"
#include "rl/ppo.hpp"
#include "rl/ppo_policy.hpp"

namespace heal {

TrainingResult train_recovery_policy(const TrainingRequest& request,
                                     const std::function<void(const TrainingProgress&)>& on_progress,
                                     const std::atomic<bool>& cancel) {
    if (request.episodes == 0) throw std::invalid_argument("training needs at least one episode");
    const PpoConfig config = recovery_ppo_config();
    IncidentEnvironment env(IncidentModel::calibrated(request.history), derive_seed(request.seed, 100));
    PpoTrainer trainer(env, config, request.seed,
                       static_cast<std::uint64_t>(request.episodes) * static_cast<std::uint64_t>(config.n_steps));
    TrainingResult result;
    for (std::uint32_t episode = 1; episode <= request.episodes; ++episode) {
        if (cancel.load()) break;
        const IterationStats stats = trainer.iterate();
        result.episodes = episode;
        result.steps = stats.steps;
        result.mean_reward = stats.mean_return;
        if (on_progress) on_progress(TrainingProgress{episode, request.episodes, stats.mean_return});
    }
    result.cancelled = cancel.load();
    if (result.cancelled) return result;
    if (request.incumbent) {
        // The same incidents and luck for both (evaluate_incidents' promise).
        const std::uint64_t seed = derive_seed(request.seed, 200);
        const PpoPolicy candidate(trainer.network());
        result.new_score = evaluate_incidents(env.model(), chooser_of(candidate), kComparisonEpisodes, seed).mean_reward;
        result.incumbent_score =
            evaluate_incidents(env.model(), chooser_of(*request.incumbent), kComparisonEpisodes, seed).mean_reward;
        if (*result.new_score < *result.incumbent_score) return result;
    }
    save_model(request.model_path, trainer.network(), request.provenance);
    result.saved = true;
    return result;
}

std::unique_ptr<Policy> load_policy(const std::filesystem::path& model_path, std::string* provenance) {
    ModelFile file = load_model_file(model_path);
    ActorCritic<float>& network = file.network;
    const NetworkShape& shape = network.shape();
    if (shape.inputs != kObservationSize || shape.actions != kActionCount)
        throw ModelError(fmt::format(
            "model file {}: shape mismatch: expected {} inputs and {} actions, got {} inputs and {} actions",
            model_path.string(), kObservationSize, kActionCount, shape.inputs, shape.actions));
    if (provenance) *provenance = std::move(file.provenance);
    return std::make_unique<PpoPolicy>(std::move(network));
}

}  // namespace heal
