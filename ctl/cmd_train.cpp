#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "json_output.hpp"
#include "render.hpp"

namespace healctl {

namespace {

struct TrainOptions {
    std::uint32_t episodes = 100;
    bool no_wait = false;
    TrainFromOptions from;
};

// Follows healerd's training signals until TrainingFinished, drawing progress.
TrainingFinished train_and_wait(BusClient& client, std::uint32_t episodes, bool show_progress) {
    ProgressBar bar(stdout, is_terminal(stdout));
    std::optional<TrainingFinished> finished;
    bool daemon_exited = false;
    // Subscribe before calling Train: a short run may finish before Train's reply arrives.
    const Subscription progress = client.on_training_progress([&](const TrainingProgress& p) {
        if (show_progress) bar.update(p.episode, p.episodes, fmt::format("mean reward {:.2f}", p.mean_reward));
    });
    const Subscription done = client.on_training_finished([&](const TrainingFinished& f) { finished = f; });
    const Subscription exited = client.on_daemon_exit([&] { daemon_exited = true; });

    client.train(episodes);
    while (!finished && !daemon_exited) client.dispatch_or_wait();
    bar.finish();
    if (!finished) throw CtlError(Exit::failed, "healerd exited before training finished; its log says why.");
    return *finished;
}

}  // namespace

Command add_train_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("train", "Train the PPO policy in healerd's learning environment");
    auto options = std::make_shared<TrainOptions>();
    sub->add_option("--episodes,-e", options->episodes, "Episodes to train")
        ->check(CLI::Range(1u, 10000u))
        ->capture_default_str();
    sub->add_flag("--no-wait", options->no_wait, "Return once training has started");
    add_train_from_options(sub, options->from);
    return {sub, [&global, options] {
                if (!options->from.files.empty()) {
                    if (options->no_wait) throw CtlError(Exit::usage, "--no-wait applies to healerd's training, not --from.");
                    train_from_exports(options->from, options->episodes, global.json);
                    return;
                }
                if (options->from.output || options->from.seed)
                    throw CtlError(Exit::usage, "--output and --seed apply to train --from.");
                BusClient client(global.scope());
                if (options->no_wait) {
                    client.train(options->episodes);
                    if (global.json) print_json({{"status", "started"}, {"episodes", options->episodes}});
                    else fmt::print("Training started: {} episodes.\n", options->episodes);
                    return;
                }
                const TrainingFinished f = train_and_wait(client, options->episodes, !global.json);
                if (global.json) print_json(f);
                if (!f.success)
                    throw CtlError(Exit::failed, f.message.empty() ? "training failed." : as_sentence(f.message));
                if (!global.json)
                    fmt::print("Training finished: {}\n",
                               f.message.empty() ? fmt::format("{} episodes, mean reward {:.2f}.", f.episodes, f.mean_reward)
                                                 : as_sentence(f.message));
            }};
}

}  // namespace healctl
