#pragma once
// The incident environment: one episode is one incident, as the daemon runs
// it. A unit fails; the policy tries actions one after another, among the
// escalation candidates, with exponential backoff between attempts, until one
// heals the unit durably or the incident is given up. Each attempt ends in a
// durable success, a relapse (healed for a while, then failing again within
// StableSec) or a failure; the probabilities and mean times per failure kind
// and action are priors (table in docs/rl.md), calibrated from stored
// attempts. The reward is the negated downtime in seconds, minus a per-action
// cost.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "rl/environment.hpp"
#include "rl/failure_env.hpp"
#include "rl/observation.hpp"
#include "rl/policy.hpp"
#include "rl/random.hpp"
#include "rl/trainer.hpp"

namespace heal {

enum class AttemptResult { durable = 0, relapse = 1, failure = 2 };
inline constexpr int kAttemptResultCount = 3;

// How one action fares against one failure kind.
struct ActionEffect {
    std::array<double, kAttemptResultCount> probability{};  // durable, relapse, failure; sums to 1
    double execution_s = 0.0;      // mean time the action takes, exponential; the unit is down meanwhile
    double relapse_delay_s = 0.0;  // mean time up before a relapse, exponential, capped at stable_s
};

struct IncidentSettings {
    std::array<double, kActionCount> action_cost{2.0, 5.0, 10.0, 0.0};  // restart, scale_up, rollback, do_nothing
    double detection_s = 10.0;    // a relapse is down this long before it is noticed
    double validation_s = 30.0;   // a failed attempt is down for the whole validation window
    double backoff_base_s = 10.0;  // before attempt n+1: base * 2^(n-1), at most backoff_cap_s
    double backoff_cap_s = 300.0;
    double give_up_s = 600.0;     // downtime charged when the incident is given up
    double stable_s = 60.0;       // healthy this long = resolved
    int max_attempts = 5;
    double p_rollback_available = 0.5;  // a rollback hook exists
    double p_scale_up_available = 0.5;  // the memory limit is below its ceiling
};

class IncidentModel {
public:
    IncidentModel();  // the priors

    // The priors updated with stored attempts, per kind x action: the result
    // probabilities as the mean of a Dirichlet posterior whose prior is worth
    // success_prior_weight attempts (recovered and relapsed = relapse,
    // recovered = durable, else failure), the mean execution time of
    // recovered attempts likewise with time_prior_weight.
    static IncidentModel calibrated(std::span<const Outcome> history, const CalibrationSettings& calibration = {});

    // How kinds show themselves (frequencies, observation distributions).
    const FailureModel& kinds() const { return kinds_; }
    const ActionEffect& effect(FailureKind kind, Action action) const;
    const IncidentSettings& settings() const { return settings_; }

    // Backoff after the attempts-th attempt (1-based).
    double backoff_s(int attempts) const;
    // Expected downtime of one attempt with this result, before any backoff or give-up.
    double expected_downtime_s(FailureKind kind, Action action, AttemptResult result) const;

private:
    FailureModel kinds_;
    std::array<std::array<ActionEffect, kActionCount>, kFailureKindCount> effects_{};
    IncidentSettings settings_;
};

struct Attempt {
    Action action = Action::do_nothing;
    AttemptResult result = AttemptResult::failure;
};

// An open incident as the daemon knows it, plus its hidden kind.
struct IncidentState {
    FailureKind kind = FailureKind::transient;  // hidden: no chooser may use it
    Observation first;                          // at detection
    Observation current;                        // with the incident fields filled in
    ActionSet available;                        // applicable actions
    ActionSet tried;
    std::vector<Attempt> attempts;
};

// An incident just opened: nothing tried yet, the kind unknown.
IncidentState open_incident(const Observation& first, ActionSet available);

class IncidentEnvironment final : public Environment {
public:
    // Episode i draws its incident and its luck from derive_seed(seed, i): a
    // sequence of episodes is the same whatever the policy does.
    IncidentEnvironment(IncidentModel model, std::uint64_t seed);

    int observation_size() const override { return kObservationSize; }
    int action_count() const override { return kActionCount; }
    void reset(std::span<float> observation) override;
    // Throws std::invalid_argument for an action legal_actions() excludes.
    StepResult step(int action, std::span<float> observation) override;
    // escalation_candidates(available, tried).
    ActionSet legal_actions() const override;

    const IncidentModel& model() const { return model_; }
    const IncidentState& state() const { return state_; }
    double episode_downtime_s() const { return downtime_s_; }  // so far, give-up penalty included

private:
    IncidentModel model_;
    std::uint64_t seed_;
    std::uint64_t episode_ = 0;
    Rng rng_;
    IncidentState state_;
    double downtime_s_ = 0.0;
};

// The best next action by expectimax on the model: the belief over kinds
// starts at the first observation's kind posterior and is updated by Bayes on
// each attempt's result; the tree (legal actions x relapse/failure, until the
// attempt budget) is searched exactly, memoised on the tried set and the
// results so far. It does not use the hidden kind, nor the times, which carry
// information the discrete tree leaves out.
class IncidentOracle {
public:
    explicit IncidentOracle(IncidentModel model) : model_(std::move(model)) {}
    Action choose(const IncidentState& state) const;
    // The expected return from here under the best plan.
    double value(const IncidentState& state) const;

private:
    IncidentModel model_;
};

struct IncidentScore {
    double mean_reward = 0.0;
    double mean_downtime_s = 0.0;  // give-up penalties included
    double mean_attempts = 0.0;
};

// Picks one of `legal` for the incident so far.
using IncidentChooser = std::function<Action(const IncidentState& state, ActionSet legal)>;

// `policy` as a chooser: its most probable legal action; where it gives every
// legal action probability 0 (a network's underflow), the ladder's; do_nothing
// when only that is left. The policy must outlive the chooser.
IncidentChooser chooser_of(const Policy& policy);

// Runs `episodes` incidents from `seed` (the same incidents and luck for any chooser).
IncidentScore evaluate_incidents(const IncidentModel& model, const IncidentChooser& choose, int episodes,
                                 std::uint64_t seed);

// PPO hyperparameters for this environment, which healctl train uses:
// failure_ppo_config() with 32x32 hidden layers, rollouts of 512 steps and 4
// epochs (healctl train's 100 episodes then take well under a second, about
// as good as 4x longer: heal-bench ppo --env incident, docs/rl.md), no
// discount (the objective is the incident's whole downtime) and rewards
// scaled by 0.01 (they are hundreds of seconds).
PpoConfig recovery_ppo_config();
// healctl train's default, 100 rollouts of n_steps: what heal-bench ppo
// --env incident trains for unless told otherwise.
inline constexpr std::uint64_t kIncidentTrainingSteps = 100 * 512;

}  // namespace heal
