#pragma once
// The daemon's entry points into learning: train a recovery policy on the
// incident environment (calibrated from stored attempts), save/load it.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/action.hpp"
#include "rl/policy.hpp"

namespace heal {

// Raised for a model file that is missing, truncated, corrupt, of another
// version or of the wrong network shape, or whose weights or outputs are not
// usable (see model_file.hpp). what() names the file and the problem.
class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One stored recovery outcome, as the environment's calibration needs it.
struct Outcome {
    Action action = Action::do_nothing;
    FailureKind kind = FailureKind::transient;
    bool recovered = false;
    double recovery_time_s = 0.0;
    bool relapsed = false;  // it healed, then failed again within StableSec (same incident)
};

struct TrainingRequest {
    std::uint32_t episodes = 10;        // each episode = one PPO rollout of n_steps
    std::uint64_t seed = 1;
    std::vector<Outcome> history;       // calibrates the environment
    std::filesystem::path model_path;   // written atomically on success
    std::string provenance;             // saved with the model (rl/provenance.hpp)
    // Automatic retraining: the new model is saved only if it scores at
    // least as well as this policy (the model in use, or the ladder) on the
    // calibrated environment. Null: always saved (healctl train).
    std::shared_ptr<const Policy> incumbent;
};

struct TrainingProgress {
    std::uint32_t episode = 0;          // 1-based, just finished
    std::uint32_t episodes = 0;
    double mean_reward = 0.0;           // mean episode reward of recent episodes
};

struct TrainingResult {
    std::uint32_t episodes = 0;         // completed (fewer if cancelled)
    std::uint64_t steps = 0;
    double mean_reward = 0.0;
    bool cancelled = false;
    bool saved = false;                 // the new model is at model_path
    // With an incumbent: both policies' mean reward over the same
    // kComparisonEpisodes incidents of the calibrated environment.
    std::optional<double> new_score;
    std::optional<double> incumbent_score;
};

// Incidents on which a retrained model and the one in use are compared.
inline constexpr int kComparisonEpisodes = 2000;

// Blocking; call from a worker thread. on_progress is called from that thread
// after each episode. Setting cancel stops between episodes without saving.
// With an incumbent, saves only a model that scores at least as well.
// Throws std::invalid_argument for zero episodes, ModelError when saving fails.
TrainingResult train_recovery_policy(const TrainingRequest& request,
                                     const std::function<void(const TrainingProgress&)>& on_progress,
                                     const std::atomic<bool>& cancel);

// Loads a policy saved by train_recovery_policy, and its provenance ("" for
// none) into *provenance when given; throws ModelError.
std::unique_ptr<Policy> load_policy(const std::filesystem::path& model_path, std::string* provenance = nullptr);

}  // namespace heal
