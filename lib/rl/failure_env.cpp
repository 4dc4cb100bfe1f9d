#include "rl/failure_env.hpp"

#include <algorithm>
#include <cmath>

namespace heal {
namespace {

constexpr auto idx = [](auto e) { return static_cast<std::size_t>(e); };

// The priors (docs/rl.md has them as a table). Averaged over kinds, the
// success rates are the original design's: restart ~70 %, scale_up ~60 %,
// rollback ~50 %, do_nothing ~20 %; per kind, the best action differs.
//                             restart scale_up rollback do_nothing
std::array<KindProfile, kFailureKindCount> prior_profiles() {
    std::array<KindProfile, kFailureKindCount> p{};
    p[idx(FailureKind::cpu_runaway)] = {0.25, {75, 100}, {20, 70}, 0.95, 0.05, 0.05, 0.03, 0, 4,
                                        {0.85, 0.70, 0.35, 0.10}, {1.5, 1.0, 3.0, 2.5}};
    p[idx(FailureKind::memory_leak)] = {0.20, {10, 60}, {75, 100}, 0.10, 0.95, 0.20, 0.03, 0, 5,
                                        {0.65, 0.95, 0.40, 0.10}, {1.5, 1.0, 3.0, 2.5}};
    p[idx(FailureKind::crash)] = {0.20, {0, 30}, {5, 60}, 0.05, 0.05, 0.95, 0.03, 0, 3,
                                  {0.90, 0.35, 0.50, 0.05}, {1.5, 1.0, 3.0, 2.5}};
    p[idx(FailureKind::bad_deploy)] = {0.15, {0, 60}, {5, 60}, 0.30, 0.20, 0.60, 0.95, 1, 8,
                                       {0.30, 0.20, 0.90, 0.05}, {1.5, 1.0, 3.0, 2.5}};
    p[idx(FailureKind::transient)] = {0.20, {50, 95}, {20, 80}, 0.60, 0.20, 0.02, 0.03, 0, 2,
                                      {0.60, 0.60, 0.40, 0.75}, {1.5, 1.0, 3.0, 0.5}};
    return p;
}

double uniform_density(double x, const Range& r) { return x >= r.lo && x <= r.hi ? 1.0 / (r.hi - r.lo) : 0.0; }
double flag_probability(bool flag, double p) { return flag ? p : 1.0 - p; }

// E[max(2, 10 - 2T)] for T ~ Exponential(mean): recovery_reward's expectation
// in closed form, 2 + 2 E[max(0, 4 - T)] = 2 + 2 (4 - mean (1 - e^(-4/mean))).
double expected_success_reward(double mean_time) {
    if (mean_time <= 0.0) return recovery_reward(true, 0.0);
    return 2.0 + 2.0 * (4.0 - mean_time * (1.0 - std::exp(-4.0 / mean_time)));
}

}  // namespace

FailureModel::FailureModel() : profiles_(prior_profiles()) {}

FailureModel FailureModel::calibrated(std::span<const Outcome> history, const CalibrationSettings& settings) {
    struct Tally {
        double outcomes = 0, successes = 0, timed = 0, time_sum = 0;
    };
    std::array<std::array<Tally, kActionCount>, kFailureKindCount> tallies{};
    for (const Outcome& o : history) {
        Tally& t = tallies.at(idx(o.kind)).at(idx(o.action));
        ++t.outcomes;
        if (!o.recovered) continue;
        ++t.successes;
        if (std::isfinite(o.recovery_time_s) && o.recovery_time_s >= 0.0) {
            ++t.timed;
            t.time_sum += o.recovery_time_s;
        }
    }
    FailureModel model;
    for (std::size_t k = 0; k < kFailureKindCount; ++k) {
        for (std::size_t a = 0; a < kActionCount; ++a) {
            const Tally& t = tallies[k][a];
            double& success = model.profiles_[k].success[a];
            double& time = model.profiles_[k].recovery_time[a];
            success = (settings.success_prior_weight * success + t.successes) /
                      (settings.success_prior_weight + t.outcomes);
            time = (settings.time_prior_weight * time + t.time_sum) / (settings.time_prior_weight + t.timed);
        }
    }
    return model;
}

const KindProfile& FailureModel::profile(FailureKind kind) const { return profiles_.at(idx(kind)); }

double FailureModel::success_probability(FailureKind kind, Action action, const Observation& obs) const {
    const double cpu = std::clamp(obs.cpu_percent, 0.0, 100.0) / 100.0;
    const double memory = std::clamp(obs.memory_percent, 0.0, 100.0) / 100.0;
    double p = profile(kind).success[idx(action)];
    if (action == Action::restart) p += 0.2 * (std::max(cpu, memory) - 0.5);
    if (action == Action::scale_up) p += 0.2 * (memory - 0.5);
    return std::clamp(p, 0.01, 0.99);
}

double FailureModel::mean_recovery_time(FailureKind kind, Action action) const {
    return profile(kind).recovery_time[idx(action)];
}

double FailureModel::expected_reward(FailureKind kind, Action action, const Observation& obs) const {
    const double p = success_probability(kind, action, obs);
    return p * expected_success_reward(mean_recovery_time(kind, action)) + (1.0 - p) * recovery_reward(false, 0.0);
}

std::array<double, kFailureKindCount> FailureModel::kind_posterior(const Observation& obs) const {
    std::array<double, kFailureKindCount> posterior{};
    double total = 0.0;
    for (std::size_t k = 0; k < kFailureKindCount; ++k) {
        const KindProfile& p = profiles_[k];
        const bool failures_possible = obs.failure_count >= p.min_failures && obs.failure_count <= p.max_failures;
        posterior[k] = p.frequency * uniform_density(obs.cpu_percent, p.cpu_percent) *
                       uniform_density(obs.memory_percent, p.memory_percent) *
                       flag_probability(obs.cpu_anomalous, p.p_cpu_anomalous) *
                       flag_probability(obs.memory_anomalous, p.p_memory_anomalous) *
                       flag_probability(!obs.unit_active, p.p_unit_down) *
                       flag_probability(obs.recent_package_change, p.p_package_change) *
                       (failures_possible ? 1.0 / (p.max_failures - p.min_failures + 1) : 0.0);
        total += posterior[k];
    }
    // An observation no kind can produce tells nothing: fall back to the frequencies.
    for (std::size_t k = 0; k < kFailureKindCount; ++k)
        posterior[k] = total > 0.0 ? posterior[k] / total : profiles_[k].frequency;
    return posterior;
}

std::array<double, kActionCount> FailureModel::expected_rewards(const Observation& obs) const {
    const auto posterior = kind_posterior(obs);
    std::array<double, kActionCount> rewards{};
    for (std::size_t a = 0; a < kActionCount; ++a)
        for (std::size_t k = 0; k < kFailureKindCount; ++k)
            rewards[a] += posterior[k] * expected_reward(static_cast<FailureKind>(k), kAllActions[a], obs);
    return rewards;
}

FailureCase FailureModel::sample_case(Rng& rng) const {
    double u = rng.uniform();
    std::size_t k = 0;
    while (k + 1 < kFailureKindCount && u >= profiles_[k].frequency) u -= profiles_[k++].frequency;
    const KindProfile& p = profiles_[k];
    FailureCase incident;
    incident.kind = static_cast<FailureKind>(k);
    Observation& obs = incident.observation;
    obs.cpu_percent = rng.uniform(p.cpu_percent.lo, p.cpu_percent.hi);
    obs.memory_percent = rng.uniform(p.memory_percent.lo, p.memory_percent.hi);
    obs.cpu_anomalous = rng.bernoulli(p.p_cpu_anomalous);
    obs.memory_anomalous = rng.bernoulli(p.p_memory_anomalous);
    obs.unit_active = !rng.bernoulli(p.p_unit_down);
    obs.recent_package_change = rng.bernoulli(p.p_package_change);
    obs.failure_count = p.min_failures + static_cast<int>(rng.below(static_cast<std::uint64_t>(p.max_failures - p.min_failures + 1)));
    return incident;
}

Outcome FailureModel::resolve(const FailureCase& incident, Action action, Rng& rng) const {
    const double u_success = rng.uniform();
    const double u_time = rng.uniform();
    Outcome outcome;
    outcome.action = action;
    outcome.kind = incident.kind;
    outcome.recovered = u_success < success_probability(incident.kind, action, incident.observation);
    outcome.recovery_time_s = outcome.recovered ? -mean_recovery_time(incident.kind, action) * std::log(1.0 - u_time) : 0.0;
    return outcome;
}

FailureEnvironment::FailureEnvironment(FailureModel model, std::uint64_t seed)
    : model_(std::move(model)), rng_(seed) {}

void FailureEnvironment::reset(std::span<float> observation) {
    incident_ = model_.sample_case(rng_);
    const ObservationVector encoded = encode(incident_.observation);
    std::copy(encoded.begin(), encoded.end(), observation.begin());
}

StepResult FailureEnvironment::step(int action, std::span<float> observation) {
    const Outcome outcome = model_.resolve(incident_, static_cast<Action>(action), rng_);
    const ObservationVector encoded = encode(incident_.observation);
    std::copy(encoded.begin(), encoded.end(), observation.begin());
    return {recovery_reward(outcome.recovered, outcome.recovery_time_s), true, false};
}

ActionProbabilities OraclePolicy::probabilities(const Observation& obs) const {
    const auto rewards = model_.expected_rewards(obs);
    ActionProbabilities p{};
    p[static_cast<std::size_t>(std::max_element(rewards.begin(), rewards.end()) - rewards.begin())] = 1.0f;
    return p;
}

PpoConfig failure_ppo_config() {
    PpoConfig config;
    config.learning_rate = 3e-3;
    config.entropy_coef = 0.01;
    return config;
}

double evaluate_mean_reward(const FailureModel& model, const std::function<Action(const Observation&)>& choose,
                            int episodes, std::uint64_t seed) {
    Rng rng(seed);
    double total = 0.0;
    for (int i = 0; i < episodes; ++i) {
        const FailureCase incident = model.sample_case(rng);
        const Outcome outcome = model.resolve(incident, choose(incident.observation), rng);
        total += recovery_reward(outcome.recovered, outcome.recovery_time_s);
    }
    return episodes > 0 ? total / episodes : 0.0;
}

}  // namespace heal
