#include "rl/ppo.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace heal {
namespace {

constexpr std::size_t kRecentEpisodes = 100;

std::span<const float> as_span(const Eigen::VectorXf& v) {
    return {v.data(), static_cast<std::size_t>(v.size())};
}

const PpoConfig& validated(const PpoConfig& c) {
    if (c.n_steps < 1 || c.minibatch_size < 1 || c.epochs < 1)
        throw std::invalid_argument("PPO: n_steps, minibatch_size and epochs must be positive");
    if (!(c.learning_rate > 0) || !(c.clip_range > 0) || !(c.max_grad_norm > 0) || !(c.adam_epsilon > 0))
        throw std::invalid_argument("PPO: learning_rate, clip_range, max_grad_norm and adam_epsilon must be positive");
    if (c.gamma < 0 || c.gamma > 1 || c.gae_lambda < 0 || c.gae_lambda > 1)
        throw std::invalid_argument("PPO: gamma and gae_lambda must lie in [0, 1]");
    if (!(c.reward_scale > 0)) throw std::invalid_argument("PPO: reward_scale must be positive");
    if (c.value_clip_range && !(*c.value_clip_range > 0))
        throw std::invalid_argument("PPO: value_clip_range must be positive");
    return c;
}

}  // namespace

void compute_gae(std::span<const float> rewards, std::span<const float> values,
                 std::span<const float> next_values, std::span<const std::uint8_t> terminated,
                 std::span<const std::uint8_t> episode_ended, double gamma, double lambda,
                 std::span<float> advantages) {
    double next_advantage = 0.0;
    for (std::size_t t = rewards.size(); t-- > 0;) {
        const double bootstrap = terminated[t] ? 0.0 : gamma * next_values[t];
        const double delta = rewards[t] + bootstrap - values[t];
        if (episode_ended[t]) next_advantage = 0.0;
        next_advantage = delta + gamma * lambda * next_advantage;
        advantages[t] = static_cast<float>(next_advantage);
    }
}

template <typename Scalar>
PpoLoss<Scalar>::PpoLoss(const PpoConfig& config) : config_(config) {}

template <typename Scalar>
LossTerms PpoLoss<Scalar>::evaluate(const ActorCritic<Scalar>& network, const Minibatch<Scalar>& batch,
                                    Vector& gradient) {
    const Eigen::Index size = batch.observations.cols();
    const auto n = static_cast<Scalar>(size);
    network.forward(batch.observations, workspace_);
    const Matrix& values = workspace_.critic.back();
    masked_logits_ = workspace_.actor.back();
    for (std::size_t i = 0; i < batch.legal.size(); ++i)
        mask_logits(std::span<Scalar>(masked_logits_.col(static_cast<Eigen::Index>(i)).data(),
                                      static_cast<std::size_t>(masked_logits_.rows())),
                    batch.legal[i]);
    const Matrix& logits = masked_logits_;

    advantages_ = batch.advantages;
    if (config_.normalize_advantages && size > 1) {
        const Scalar mean = advantages_.mean();
        const Scalar stddev = std::sqrt((advantages_.array() - mean).square().sum() / (n - 1));  // as torch.std
        advantages_ = (advantages_.array() - mean) / (stddev + Scalar(1e-8));
    }

    // Log-softmax and entropy of every column at once.
    max_logit_ = logits.colwise().maxCoeff();
    log_p_ = logits.rowwise() - max_logit_;
    log_sum_ = log_p_.array().exp().colwise().sum().log();
    log_p_.rowwise() -= log_sum_;
    p_ = log_p_.array().exp();
    entropy_ = -(p_.array() * log_p_.array()).colwise().sum();

    const auto clip = static_cast<Scalar>(config_.clip_range);
    const auto value_coef = static_cast<Scalar>(config_.value_coef);
    dloss_dlogp_.resize(size);
    dvalues_.resize(1, size);
    LossTerms terms;
    for (Eigen::Index i = 0; i < size; ++i) {
        // Policy: clipped surrogate. The max() passes on the unclipped
        // branch's gradient, or none when the clipped (constant) one is larger.
        const int action = batch.actions[static_cast<std::size_t>(i)];
        const Scalar log_ratio = log_p_(action, i) - batch.old_log_probs(i);
        const Scalar ratio = std::exp(log_ratio);
        const Scalar advantage = advantages_(i);
        const Scalar unclipped = -advantage * ratio;
        const Scalar clipped = -advantage * std::clamp(ratio, Scalar(1) - clip, Scalar(1) + clip);
        dloss_dlogp_(i) = unclipped >= clipped ? unclipped : Scalar(0);
        terms.policy += std::max(unclipped, clipped);
        terms.approx_kl += (ratio - 1) - log_ratio;
        terms.clip_fraction += std::abs(ratio - 1) > clip ? 1.0 : 0.0;

        // Value: squared error, optionally against a value kept within
        // value_clip_range of the old one, whichever is worse.
        const Scalar target = batch.returns(i);
        Scalar error = values(0, i) - target;
        Scalar dloss_dv = error;
        if (config_.value_clip_range) {
            const auto range = static_cast<Scalar>(*config_.value_clip_range);
            const Scalar old = batch.old_values(i);
            const Scalar clipped_error = old + std::clamp(values(0, i) - old, -range, range) - target;
            if (clipped_error * clipped_error > error * error) {
                error = clipped_error;
                dloss_dv = 0;  // the clipped value does not move with the network
            }
        }
        terms.value += Scalar(0.5) * error * error;
        dvalues_(0, i) = value_coef * dloss_dv / n;
    }
    // d log p_a / d logit_j = [j = a] - p_j;  d entropy / d logit_j = -p_j (log p_j + entropy).
    const auto entropy_coef = static_cast<Scalar>(config_.entropy_coef);
    dlogits_ = p_.array() *
               ((entropy_coef * (log_p_.array().rowwise() + entropy_.array())).rowwise() - dloss_dlogp_.array()) / n;
    for (Eigen::Index i = 0; i < size; ++i)
        dlogits_(batch.actions[static_cast<std::size_t>(i)], i) += dloss_dlogp_(i) / n;
    network.backward(batch.observations, dlogits_, dvalues_, workspace_, gradient);

    const auto mean = [&](double sum) { return sum / static_cast<double>(size); };
    terms.policy = mean(terms.policy);
    terms.value = mean(terms.value);
    terms.entropy = static_cast<double>(entropy_.mean());
    terms.approx_kl = mean(terms.approx_kl);
    terms.clip_fraction = mean(terms.clip_fraction);
    terms.total = terms.policy - config_.entropy_coef * terms.entropy + config_.value_coef * terms.value;
    return terms;
}

template class PpoLoss<float>;
template class PpoLoss<double>;

template <typename Scalar>
void mask_logits(std::span<Scalar> logits, const ActionSet& legal) {
    bool any = false;
    for (std::size_t a = 0; a < logits.size(); ++a) {
        if (a >= legal.size() || legal.test(a)) {
            any = true;
        } else {
            logits[a] = static_cast<Scalar>(kMaskedLogit);
        }
    }
    if (!any) throw std::logic_error("PPO: the environment's state allows no action");
}

template void mask_logits<float>(std::span<float>, const ActionSet&);
template void mask_logits<double>(std::span<double>, const ActionSet&);

Adam::Adam(Eigen::Index size, double epsilon, double beta1, double beta2)
    : epsilon_(epsilon), beta1_(beta1), beta2_(beta2), first_moment_(Eigen::VectorXf::Zero(size)),
      second_moment_(Eigen::VectorXf::Zero(size)) {}

void Adam::step(Eigen::VectorXf& parameters, const Eigen::VectorXf& gradient, double learning_rate) {
    ++steps_;
    const auto b1 = static_cast<float>(beta1_);
    const auto b2 = static_cast<float>(beta2_);
    first_moment_ = b1 * first_moment_ + (1 - b1) * gradient;
    second_moment_ = b2 * second_moment_ + (1 - b2) * gradient.cwiseAbs2();
    const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
    const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
    const auto step_size = static_cast<float>(learning_rate / correction1);
    const auto sqrt_correction2 = static_cast<float>(std::sqrt(correction2));
    const auto eps = static_cast<float>(epsilon_);
    parameters.array() -=
        step_size * first_moment_.array() / (second_moment_.array().sqrt() / sqrt_correction2 + eps);
}

double clip_gradient_norm(Eigen::VectorXf& gradient, double max_norm) {
    // Summed in float: Eigen vectorises that, not a sum over a cast to double.
    const double norm = std::sqrt(static_cast<double>(gradient.squaredNorm()));
    if (norm > max_norm) gradient *= static_cast<float>(max_norm / (norm + 1e-6));
    return norm;
}

int sample_action(std::span<const float> logits, Rng& rng, float& log_prob) {
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    float sum = 0.0f;
    for (float l : logits) sum += std::exp(l - max_logit);
    const double u = rng.uniform() * sum;
    double cumulative = 0.0;
    int action = static_cast<int>(logits.size()) - 1;  // guards against rounding at the top end
    for (std::size_t a = 0; a < logits.size(); ++a) {
        cumulative += std::exp(logits[a] - max_logit);
        if (u < cumulative) {
            action = static_cast<int>(a);
            break;
        }
    }
    log_prob = logits[static_cast<std::size_t>(action)] - max_logit - std::log(sum);
    return action;
}

PpoTrainer::PpoTrainer(Environment& env, const PpoConfig& config, std::uint64_t seed, std::uint64_t total_steps)
    : env_(env),
      config_(validated(config)),
      planned_iterations_(std::max<std::uint64_t>(1, total_steps / static_cast<std::uint64_t>(config.n_steps))),
      network_(NetworkShape{env.observation_size(), config.hidden, env.action_count()}),
      rng_(derive_seed(seed, 2)),
      loss_(config),
      adam_(network_.parameters().size(), config.adam_epsilon) {
    Rng init_rng(derive_seed(seed, 1));
    network_.initialize(init_rng);

    const auto n = static_cast<Eigen::Index>(config_.n_steps);
    observations_.resize(env.observation_size(), n);
    actions_.resize(static_cast<std::size_t>(n));
    for (Eigen::VectorXf* v : {&log_probs_, &values_, &rewards_, &next_values_, &advantages_, &returns_}) v->resize(n);
    terminated_.resize(static_cast<std::size_t>(n));
    episode_ended_.resize(static_cast<std::size_t>(n));
    legal_.resize(static_cast<std::size_t>(n));
    order_.resize(static_cast<std::size_t>(n));
    observation_.resize(static_cast<std::size_t>(env.observation_size()));
    logits_.resize(static_cast<std::size_t>(env.action_count()));
    env_.reset(observation_);
}

double PpoTrainer::recent_mean_return() const {
    if (recent_returns_.empty()) return 0.0;
    return std::accumulate(recent_returns_.begin(), recent_returns_.end(), 0.0) /
           static_cast<double>(recent_returns_.size());
}

PpoTrainer::RolloutSummary PpoTrainer::collect_rollout() {
    RolloutSummary summary;
    float value = network_.value(observation_);
    for (std::size_t t = 0; t < actions_.size(); ++t) {
        const auto col = static_cast<Eigen::Index>(t);
        observations_.col(col) = Eigen::Map<const Eigen::VectorXf>(observation_.data(), observations_.rows());
        network_.logits(observation_, logits_);
        legal_[t] = env_.legal_actions();
        mask_logits<float>(logits_, legal_[t]);
        actions_[t] = sample_action(logits_, rng_, log_probs_(col));
        values_(col) = value;

        const StepResult result = env_.step(actions_[t], observation_);
        ++steps_;
        rewards_(col) = static_cast<float>(result.reward * config_.reward_scale);
        episode_return_ += result.reward;
        terminated_[t] = result.terminated;
        episode_ended_[t] = result.terminated || result.truncated;
        // observation_ now holds the next state; when the episode was
        // truncated it is the final state, whose value GAE bootstraps from.
        next_values_(col) = result.terminated ? 0.0f : network_.value(observation_);
        value = next_values_(col);
        if (episode_ended_[t]) {
            ++summary.episodes_finished;
            summary.return_sum += episode_return_;
            recent_returns_.push_back(episode_return_);
            if (recent_returns_.size() > kRecentEpisodes) recent_returns_.pop_front();
            episode_return_ = 0.0;
            env_.reset(observation_);
            value = network_.value(observation_);
        }
    }
    return summary;
}

LossTerms PpoTrainer::update(double learning_rate) {
    compute_gae(as_span(rewards_), as_span(values_), as_span(next_values_), terminated_, episode_ended_,
                config_.gamma, config_.gae_lambda, {advantages_.data(), order_.size()});
    returns_ = advantages_ + values_;

    const std::size_t n = order_.size();
    const auto batch_size = std::min(static_cast<std::size_t>(config_.minibatch_size), n);
    LossTerms mean;
    int minibatches = 0;
    for (int epoch = 0; epoch < config_.epochs; ++epoch) {
        std::iota(order_.begin(), order_.end(), 0);
        for (std::size_t i = n - 1; i > 0; --i) std::swap(order_[i], order_[rng_.below(i + 1)]);  // Fisher-Yates
        for (std::size_t start = 0; start < n; start += batch_size) {
            const auto size = static_cast<Eigen::Index>(std::min(batch_size, n - start));
            batch_.observations.resize(observations_.rows(), size);
            batch_.actions.resize(static_cast<std::size_t>(size));
            batch_.legal.resize(static_cast<std::size_t>(size));
            for (Eigen::VectorXf* v : {&batch_.old_log_probs, &batch_.advantages, &batch_.returns, &batch_.old_values})
                v->resize(size);
            for (Eigen::Index j = 0; j < size; ++j) {
                const int k = order_[start + static_cast<std::size_t>(j)];
                batch_.observations.col(j) = observations_.col(k);
                batch_.actions[static_cast<std::size_t>(j)] = actions_[static_cast<std::size_t>(k)];
                batch_.legal[static_cast<std::size_t>(j)] = legal_[static_cast<std::size_t>(k)];
                batch_.old_log_probs(j) = log_probs_(k);
                batch_.advantages(j) = advantages_(k);
                batch_.returns(j) = returns_(k);
                batch_.old_values(j) = values_(k);
            }
            const LossTerms terms = loss_.evaluate(network_, batch_, gradient_);
            clip_gradient_norm(gradient_, config_.max_grad_norm);
            adam_.step(network_.parameters(), gradient_, learning_rate);
            mean.policy += terms.policy;
            mean.value += terms.value;
            mean.entropy += terms.entropy;
            mean.total += terms.total;
            mean.approx_kl += terms.approx_kl;
            mean.clip_fraction += terms.clip_fraction;
            ++minibatches;
        }
    }
    for (double* term : {&mean.policy, &mean.value, &mean.entropy, &mean.total, &mean.approx_kl, &mean.clip_fraction})
        *term /= minibatches;
    return mean;
}

IterationStats PpoTrainer::iterate() {
    IterationStats stats;
    stats.learning_rate = config_.learning_rate;
    if (config_.anneal_learning_rate)
        stats.learning_rate *= 1.0 - static_cast<double>(std::min(iteration_, planned_iterations_)) /
                                         static_cast<double>(planned_iterations_);
    ++iteration_;
    const RolloutSummary rollout = collect_rollout();
    stats.episodes_finished = rollout.episodes_finished;
    if (rollout.episodes_finished > 0) stats.mean_return = rollout.return_sum / rollout.episodes_finished;
    stats.loss = update(stats.learning_rate);
    stats.steps = steps_;
    return stats;
}

void PpoTrainer::train(const std::function<void(const IterationStats&)>& on_iteration) {
    while (iteration_ < planned_iterations_) {
        const IterationStats stats = iterate();
        if (on_iteration) on_iteration(stats);
    }
}

}  // namespace heal
