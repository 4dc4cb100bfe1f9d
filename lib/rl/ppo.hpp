#pragma once
// Proximal Policy Optimization (Schulman et al., 2017) with the details that
// make it work in practice, as CleanRL's ppo.py and Stable-Baselines3 do:
// GAE, per-minibatch advantage normalisation, clipped surrogate, optionally
// clipped value loss, entropy bonus, shuffled minibatch epochs, Adam (eps
// 1e-5), global gradient-norm clipping and linear learning-rate decay.
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/action_set.hpp"
#include "rl/environment.hpp"
#include "rl/network.hpp"
#include "rl/random.hpp"

namespace heal {

// Hyperparameters. Defaults: Stable-Baselines3's PPO defaults, except where a
// comment says otherwise; with them PPO solves CartPole-v1 within 200 000
// steps (heal-bench ppo --env cartpole).
struct PpoConfig {
    std::vector<int> hidden{64, 64};  // hidden widths of both the policy and the value MLP
    int n_steps = 1024;               // steps per rollout (SB3: 2048; the original design trained 1024 per episode)
    int minibatch_size = 64;
    int epochs = 10;                  // passes over each rollout
    double learning_rate = 3e-4;
    bool anneal_learning_rate = true;  // linear decay to 0 over the planned steps (SB3: constant)
    double gamma = 0.99;              // discount
    double gae_lambda = 0.95;
    double clip_range = 0.2;          // policy ratio clipped to [1 - c, 1 + c]
    std::optional<double> value_clip_range;  // unset: unclipped value loss
    double entropy_coef = 0.0;
    double value_coef = 0.5;
    double max_grad_norm = 0.5;       // global L2 norm
    double adam_epsilon = 1e-5;
    bool normalize_advantages = true;  // per minibatch
    // Rewards are multiplied by this before GAE (reported returns are not):
    // keeps the value loss O(1), so gradient clipping, which the two heads
    // share, does not shrink the policy's gradient to make room for it.
    double reward_scale = 1.0;
};

// Generalised advantage estimation over one rollout. next_values[t] is the
// value of the state step t led to (for a truncated step, the episode's final
// state; ignored for a terminated one); the recursion never crosses an
// episode end, and the rollout's last step, if unfinished, bootstraps from
// next_values. Writes advantages; returns are advantages + values.
void compute_gae(std::span<const float> rewards, std::span<const float> values,
                 std::span<const float> next_values, std::span<const std::uint8_t> terminated,
                 std::span<const std::uint8_t> episode_ended, double gamma, double lambda,
                 std::span<float> advantages);

template <typename Scalar>
struct Minibatch {
    typename ActorCritic<Scalar>::Matrix observations;  // one per column
    std::vector<int> actions;
    typename ActorCritic<Scalar>::Vector old_log_probs;
    typename ActorCritic<Scalar>::Vector advantages;     // raw; normalised inside the loss if configured
    typename ActorCritic<Scalar>::Vector returns;
    typename ActorCritic<Scalar>::Vector old_values;
    // The legal actions of each sample's state; empty: every action legal.
    std::vector<ActionSet> legal;
};

struct LossTerms {
    double policy = 0.0;         // clipped surrogate, to be minimised
    double value = 0.0;          // 0.5 * mean squared error (clipped if configured)
    double entropy = 0.0;        // mean policy entropy
    double total = 0.0;          // policy - entropy_coef * entropy + value_coef * value
    double approx_kl = 0.0;      // mean of (r - 1) - log r
    double clip_fraction = 0.0;  // share of samples whose ratio left the clip range
};

// The PPO loss of a minibatch and its gradient w.r.t. every network parameter.
// Keeps its buffers between calls.
template <typename Scalar>
class PpoLoss {
public:
    using Vector = typename ActorCritic<Scalar>::Vector;
    using Matrix = typename ActorCritic<Scalar>::Matrix;
    using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

    explicit PpoLoss(const PpoConfig& config);
    LossTerms evaluate(const ActorCritic<Scalar>& network, const Minibatch<Scalar>& batch, Vector& gradient);

private:
    PpoConfig config_;
    typename ActorCritic<Scalar>::Workspace workspace_;
    Vector advantages_;
    Matrix masked_logits_;  // the logits, illegal actions at kMaskedLogit
    Matrix log_p_;  // actions x B
    Matrix p_;      // actions x B
    RowVector max_logit_;   // of each column
    RowVector log_sum_;     // log-sum-exp of each shifted column
    RowVector entropy_;
    RowVector dloss_dlogp_;  // d policy loss / d log p(taken action)
    Matrix dlogits_;
    Matrix dvalues_;
};

extern template class PpoLoss<float>;
extern template class PpoLoss<double>;

// Adam with bias correction (Kingma & Ba), as torch.optim.Adam computes it.
class Adam {
public:
    Adam(Eigen::Index size, double epsilon, double beta1 = 0.9, double beta2 = 0.999);
    void step(Eigen::VectorXf& parameters, const Eigen::VectorXf& gradient, double learning_rate);

private:
    double epsilon_;
    double beta1_;
    double beta2_;
    std::int64_t steps_ = 0;
    Eigen::VectorXf first_moment_;
    Eigen::VectorXf second_moment_;
};

// Scales gradient so that its global L2 norm is at most max_norm; returns the
// norm before scaling.
double clip_gradient_norm(Eigen::VectorXf& gradient, double max_norm);

// What an illegal action's logit becomes, as in CleanRL's masked PPO: its
// probability underflows to exactly 0, and so do its entropy term and its
// gradient, while the arithmetic stays finite.
inline constexpr float kMaskedLogit = -1e8f;

// Sets the logits of the actions not in `legal` to kMaskedLogit. Throws
// std::logic_error when no action is legal.
template <typename Scalar>
void mask_logits(std::span<Scalar> logits, const ActionSet& legal);

// Softmax of logits, sampled; returns the action and writes its log-probability.
int sample_action(std::span<const float> logits, Rng& rng, float& log_prob);

struct IterationStats {
    std::uint64_t steps = 0;              // environment steps so far
    std::uint32_t episodes_finished = 0;  // during this rollout
    double mean_return = 0.0;             // of those episodes (0 when none finished)
    double learning_rate = 0.0;           // used by this update
    LossTerms loss;                       // mean over the update's minibatches
};

// Trains a freshly initialised network on one environment.
class PpoTrainer {
public:
    // Plans total_steps / n_steps iterations (at least one): the learning rate
    // decays over them and train() runs them.
    PpoTrainer(Environment& env, const PpoConfig& config, std::uint64_t seed, std::uint64_t total_steps);

    // One rollout of n_steps, then one update.
    IterationStats iterate();
    // Runs the planned iterations (those not run yet), reporting each.
    void train(const std::function<void(const IterationStats&)>& on_iteration = {});

    const ActorCritic<float>& network() const { return network_; }
    std::uint64_t steps() const { return steps_; }
    // Returns of the most recently finished episodes (up to 100), oldest first.
    const std::deque<double>& recent_returns() const { return recent_returns_; }
    double recent_mean_return() const;

    struct RolloutSummary {
        std::uint32_t episodes_finished = 0;
        double return_sum = 0.0;  // of those episodes
    };
    // The two halves of iterate(), public for benchmarks.
    RolloutSummary collect_rollout();
    LossTerms update(double learning_rate);

private:

    Environment& env_;
    PpoConfig config_;
    std::uint64_t steps_ = 0;
    std::uint64_t iteration_ = 0;
    std::uint64_t planned_iterations_;
    ActorCritic<float> network_;
    Rng rng_;
    PpoLoss<float> loss_;
    Adam adam_;

    // The current rollout.
    Eigen::MatrixXf observations_;
    std::vector<int> actions_;
    Eigen::VectorXf log_probs_, values_, rewards_, next_values_, advantages_, returns_;
    std::vector<std::uint8_t> terminated_, episode_ended_;
    std::vector<ActionSet> legal_;  // of each step's state

    std::vector<float> observation_;  // the environment's current state
    std::vector<float> logits_;
    double episode_return_ = 0.0;
    std::deque<double> recent_returns_;

    std::vector<int> order_;
    Minibatch<float> batch_;
    Eigen::VectorXf gradient_;
};

}  // namespace heal
