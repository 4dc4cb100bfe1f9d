// heal-bench: trains PPO and prints the figures the bars are judged by,
// and times the store.
//   heal-bench ppo --env cartpole --seed S --steps N [--check]
//   heal-bench ppo --env failure  --seed S [--steps N] [--episodes E] [--check]
//   heal-bench ppo --env incident --seed S [--steps N] [--episodes E] [--check]
//   heal-bench storage [--metrics N] [--actions N] [--dir DIR]
//   heal-bench record --unit U [--unit U2 ...] --seconds N --out FILE.csv [--state-dir DIR] [--interval-ms MS]
//   heal-bench detect [--corpus FILE.csv[.gz]] [--limit UNIT:MemoryMax=SIZE ...] [--config healerd.conf] [--soak-days D [--soak-seed S]]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_detect.hpp"
#include "bench_record.hpp"
#include "bench_storage.hpp"
#include "rl/cartpole.hpp"
#include "rl/failure_env.hpp"
#include "rl/incident_env.hpp"
#include "rl/policy.hpp"
#include "rl/ppo.hpp"
#include "rl/ppo_policy.hpp"
#include "rl/random.hpp"

namespace {

struct Options {
    std::string env = "cartpole";
    std::uint64_t seed = 1;
    std::uint64_t steps = 0;  // 0: the environment's default
    int evaluation_episodes = 10'000;
    std::uint64_t evaluation_seed = 20'240'601;
    // Hyperparameter overrides; unset ones keep the environment's configuration.
    std::optional<int> n_steps, minibatch_size, epochs;
    std::optional<double> learning_rate, entropy_coef, max_grad_norm, reward_scale, gamma;
    std::optional<std::vector<int>> hidden;
    bool check = false;
    bool verbose = false;
};

void print_progress(const Options& options, const heal::PpoTrainer& trainer, const heal::IterationStats& stats) {
    if (!options.verbose) return;
    fmt::print(stderr, "steps={} episodes={} mean_return={:.2f} recent={:.2f} kl={:.4f} clip={:.3f} entropy={:.3f}\n",
               stats.steps, stats.episodes_finished, stats.mean_return, trainer.recent_mean_return(),
               stats.loss.approx_kl, stats.loss.clip_fraction, stats.loss.entropy);
}

heal::PpoConfig configure(heal::PpoConfig config, const Options& options) {
    if (options.n_steps) config.n_steps = *options.n_steps;
    if (options.minibatch_size) config.minibatch_size = *options.minibatch_size;
    if (options.epochs) config.epochs = *options.epochs;
    if (options.learning_rate) config.learning_rate = *options.learning_rate;
    if (options.entropy_coef) config.entropy_coef = *options.entropy_coef;
    if (options.max_grad_norm) config.max_grad_norm = *options.max_grad_norm;
    if (options.reward_scale) config.reward_scale = *options.reward_scale;
    if (options.gamma) config.gamma = *options.gamma;
    if (options.hidden) config.hidden = *options.hidden;
    return config;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int bench_cartpole(const Options& options) {
    const std::uint64_t steps = options.steps ? options.steps : 200'000;
    heal::CartPole env(heal::derive_seed(options.seed, 100));
    heal::PpoTrainer trainer(env, configure(heal::PpoConfig{}, options), options.seed, steps);
    const auto start = std::chrono::steady_clock::now();
    trainer.train([&](const heal::IterationStats& stats) { print_progress(options, trainer, stats); });
    const double seconds = seconds_since(start);
    const double mean_return = trainer.recent_mean_return();
    fmt::print("env=cartpole seed={} steps={} mean_return={:.1f} steps_per_s={:.0f}\n", options.seed,
               trainer.steps(), mean_return, static_cast<double>(trainer.steps()) / seconds);
    if (options.check && mean_return < 475.0) {
        fmt::print(stderr, "heal-bench: mean_return {:.1f} < 475\n", mean_return);
        return 1;
    }
    return 0;
}

// Trains on the prior failure model, then scores every policy on the same
// evaluation incidents.
int bench_failure(const Options& options) {
    const std::uint64_t steps = options.steps ? options.steps : 204'800;
    const heal::FailureModel model;
    heal::FailureEnvironment env(model, heal::derive_seed(options.seed, 100));
    heal::PpoTrainer trainer(env, configure(heal::failure_ppo_config(), options), options.seed, steps);
    const auto start = std::chrono::steady_clock::now();
    trainer.train([&](const heal::IterationStats& stats) { print_progress(options, trainer, stats); });
    const double seconds = seconds_since(start);
    fmt::print("env=failure seed={} steps={} steps_per_s={:.0f} evaluation_episodes={}\n", options.seed,
               trainer.steps(), static_cast<double>(trainer.steps()) / seconds, options.evaluation_episodes);

    const heal::PpoPolicy ppo(trainer.network());
    const heal::HeuristicPolicy heuristic;
    const heal::OraclePolicy oracle(model);
    heal::Rng random_rng(heal::derive_seed(options.evaluation_seed, 1));
    const auto evaluate = [&](std::string_view name, const std::function<heal::Action(const heal::Observation&)>& choose) {
        const double reward = heal::evaluate_mean_reward(model, choose, options.evaluation_episodes, options.evaluation_seed);
        fmt::print("policy={} mean_reward={:.3f}\n", name, reward);
        return reward;
    };
    const double ppo_reward = evaluate("ppo", [&](const heal::Observation& o) { return ppo.choose(o); });
    evaluate("random", [&](const heal::Observation&) {
        return heal::kAllActions[random_rng.below(heal::kActionCount)];
    });
    evaluate("heuristic", [&](const heal::Observation& o) { return heuristic.choose(o); });
    const double oracle_reward = evaluate("oracle", [&](const heal::Observation& o) { return oracle.choose(o); });
    for (heal::Action action : heal::kAllActions)
        evaluate(heal::to_string(action), [action](const heal::Observation&) { return action; });

    if (options.check && ppo_reward < 0.95 * oracle_reward) {
        fmt::print(stderr, "heal-bench: ppo {:.3f} < 95 % of oracle {:.3f}\n", ppo_reward, oracle_reward);
        return 1;
    }
    return 0;
}

// Trains on the prior incident model, then runs every policy through the same
// evaluation incidents (same kinds, applicability and luck).
int bench_incident(const Options& options) {
    const heal::IncidentModel model;
    const heal::PpoConfig config = configure(heal::recovery_ppo_config(), options);
    const std::uint64_t steps = options.steps ? options.steps : heal::kIncidentTrainingSteps;
    heal::IncidentEnvironment env(model, heal::derive_seed(options.seed, 100));
    heal::PpoTrainer trainer(env, config, options.seed, steps);
    const auto start = std::chrono::steady_clock::now();
    trainer.train([&](const heal::IterationStats& stats) { print_progress(options, trainer, stats); });
    const double seconds = seconds_since(start);
    fmt::print("env=incident seed={} steps={} training_wall_s={:.3f} steps_per_s={:.0f} "
               "evaluation_episodes={}\n",
               options.seed, trainer.steps(), seconds, static_cast<double>(trainer.steps()) / seconds,
               options.evaluation_episodes);

    const heal::PpoPolicy ppo(trainer.network());
    const heal::LadderPolicy ladder;
    const heal::IncidentOracle oracle(model);
    const heal::IncidentChooser ladder_choice = heal::chooser_of(ladder);
    const auto evaluate = [&](std::string_view name, const heal::IncidentChooser& choose) {
        const auto eval_start = std::chrono::steady_clock::now();
        const heal::IncidentScore score =
            heal::evaluate_incidents(model, choose, options.evaluation_episodes, options.evaluation_seed);
        fmt::print("policy={} mean_reward={:.2f} mean_downtime_s={:.2f} mean_attempts={:.3f}\n", name,
                   score.mean_reward, score.mean_downtime_s, score.mean_attempts);
        if (options.verbose) fmt::print(stderr, "{}: {:.2f} s\n", name, seconds_since(eval_start));
        return score.mean_reward;
    };
    const double ppo_reward = evaluate("ppo", heal::chooser_of(ppo));
    const double ladder_reward = evaluate("ladder", ladder_choice);
    for (const heal::Action action : heal::kAllActions)
        evaluate(heal::to_string(action), [&, action](const heal::IncidentState& s, heal::ActionSet legal) {
            return heal::contains(legal, action) ? action : ladder_choice(s, legal);
        });
    heal::Rng random_rng(heal::derive_seed(options.evaluation_seed, 1));
    evaluate("random", [&](const heal::IncidentState&, heal::ActionSet legal) {
        std::uint64_t pick = random_rng.below(legal.count());
        for (const heal::Action action : heal::kAllActions)
            if (heal::contains(legal, action) && pick-- == 0) return action;
        return heal::Action::do_nothing;
    });
    const double oracle_reward =
        evaluate("oracle", [&](const heal::IncidentState& s, heal::ActionSet) { return oracle.choose(s); });

    const bool near_oracle = oracle_reward - ppo_reward <= 0.05 * std::abs(oracle_reward);
    if (options.check && (!near_oracle || ppo_reward <= ladder_reward)) {
        fmt::print(stderr,
                   "heal-bench: ppo {:.2f} is not both within 5 % of the oracle {:.2f} and above the ladder {:.2f}\n",
                   ppo_reward, oracle_reward, ladder_reward);
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"healerd benchmarks"};
    app.require_subcommand(1);
    Options options;
    CLI::App* ppo = app.add_subcommand("ppo", "train PPO on an environment and report");
    ppo->add_option("--env", options.env, "cartpole, failure or incident")
        ->check(CLI::IsMember({"cartpole", "failure", "incident"}));
    ppo->add_option("--seed", options.seed, "training seed");
    ppo->add_option("--steps", options.steps, "training steps (default: cartpole 200000, failure 204800, incident: as healctl train)");
    ppo->add_option("--episodes", options.evaluation_episodes, "failure: evaluation episodes")->check(CLI::PositiveNumber);
    ppo->add_option("--eval-seed", options.evaluation_seed, "failure: evaluation seed");
    ppo->add_option("--n-steps", options.n_steps, "PPO: steps per rollout");
    ppo->add_option("--minibatch-size", options.minibatch_size, "PPO: minibatch size");
    ppo->add_option("--epochs", options.epochs, "PPO: epochs per update");
    ppo->add_option("--learning-rate", options.learning_rate, "PPO: initial Adam learning rate");
    ppo->add_option("--entropy-coef", options.entropy_coef, "PPO: entropy bonus coefficient");
    ppo->add_option("--max-grad-norm", options.max_grad_norm, "PPO: global gradient-norm bound");
    ppo->add_option("--reward-scale", options.reward_scale, "PPO: reward multiplier before GAE");
    ppo->add_option("--gamma", options.gamma, "PPO: discount");
    ppo->add_option("--hidden", options.hidden, "PPO: hidden layer widths");
    ppo->add_flag("--check", options.check, "exit 1 when the issue's bar is not met");
    ppo->add_flag("-v,--verbose", options.verbose, "print progress to stderr");
    heal::bench::StorageOptions storage_options;
    const CLI::App* storage = heal::bench::add_storage_command(app, storage_options);
    heal::bench::RecordOptions record_options;
    const CLI::App* record = heal::bench::add_record_command(app, record_options);
    heal::bench::DetectOptions detect_options;
    const CLI::App* detect = heal::bench::add_detect_command(app, detect_options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        // record's callers (record-traces.sh) expect 2 for any bad argument; detect says 2 likewise.
        return status != 0 && (record->parsed() || detect->parsed()) ? 2 : status;
    }
    try {
        if (storage->parsed()) return heal::bench::bench_storage(storage_options);
        if (record->parsed()) return heal::bench::bench_record(record_options);
        if (detect->parsed()) return heal::bench::bench_detect(detect_options);
        if (options.env == "incident") return bench_incident(options);
        return options.env == "cartpole" ? bench_cartpole(options) : bench_failure(options);
    } catch (const std::exception& e) {
        fmt::print(stderr, "heal-bench: {}\n", e.what());
        return 2;
    }
}
