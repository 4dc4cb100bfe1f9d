// Service: training a policy on a worker thread, and loading the model.
#include "service.hpp"

#include "service_internal.hpp"
#include "rl/model_file.hpp"

namespace healerd {

// ---- training ---------------------------------------------------------------

void Service::train(const heal::Caller& caller, std::uint32_t episodes) {
    authorize(caller, "Train");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (episodes < 1 || episodes > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("episodes must be 1-{} (got {})", kMaxLimit, episodes));
    if (training_) throw RequestError(RequestCode::Busy, "training is already running");

    heal::TrainingRequest request;
    request.episodes = episodes;
    request.seed = random_seed();
    request.model_path = model_path_;
    try {
        for (const heal::ActionRecord& record : store_->all_actions()) {
            // What the simulated backend did says nothing about this machine.
            if (record.simulated && !backend_->simulated()) continue;
            request.history.push_back(heal::Outcome{record.action,
                                                    record.failure_kind.value_or(heal::FailureKind::transient),
                                                    record.recovered, record.recovery_time.value_or(0.0),
                                                    record.relapsed});
        }
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot read the recovery history: {}", e.what()));
    }

    cancel_training_ = false;
    log_info(fmt::format("training a recovery policy for {} episodes on {} stored recoveries", episodes,
                         request.history.size()));
    trainer_ = std::thread([this, request = std::move(request)] {
        heal::TrainingResult result;
        std::string error;
        try {
            result = heal::train_recovery_policy(
                request,
                [this](const heal::TrainingProgress& progress) {
                    queue_.post([this, progress] {
                        if (events_) events_->training_progress(progress);
                    });
                },
                cancel_training_);
        } catch (const std::exception& e) {
            error = e.what();
        }
        queue_.post([this, result, error = std::move(error)] { finish_training(result, error); });
    });
    training_ = true;  // only once the thread exists: it alone clears the flag
    publish_state();
}

void Service::finish_training(heal::TrainingResult result, std::string error) {
    if (trainer_.joinable()) trainer_.join();
    training_ = false;
    bool success = error.empty() && !result.cancelled;
    std::string message;
    if (!error.empty()) {
        message = fmt::format("training failed: {}", error);
    } else if (result.cancelled) {
        message = fmt::format("training cancelled after {} episodes; the model was not saved", result.episodes);
    } else {
        message = fmt::format("trained {} episodes ({} steps), mean reward {:.2f}; saved {}", result.episodes,
                              result.steps, result.mean_reward, model_path_.string());
        try {
            policy_ = heal::load_policy(model_path_);
            model_loaded_ = true;
        } catch (const heal::ModelError& e) {
            success = false;
            message = fmt::format("trained, but the saved model does not load: {}", e.what());
        }
    }
    const int priority = success ? LOG_INFO : (result.cancelled && error.empty() ? LOG_NOTICE : LOG_ERR);
    log(priority, message_id::training_finished, message,
        {{"EPISODES", std::to_string(result.episodes)}, {"REWARD", fmt::format("{:.2f}", result.mean_reward)},
         {"RESULT", success ? "success" : (result.cancelled ? "cancelled" : "failed")}});
    if (events_) events_->training_finished(success, result.episodes, result.mean_reward, message);
    publish_state();
}

void Service::load_model(bool at_startup) {
    std::error_code ec;
    if (!std::filesystem::exists(model_path_, ec)) {
        if (at_startup) log_info(fmt::format("no trained model at {}; using the default ladder", model_path_.string()));
        return;
    }
    try {
        policy_ = heal::load_policy(model_path_);
        model_loaded_ = true;
        log_info(fmt::format("loaded the {} policy from {}", policy_->name(), model_path_.string()));
    } catch (const heal::ModelError& e) {
        log_error(fmt::format("{}; using the default ladder (the file is left as it is)", e.what()));
    }
}

}  // namespace healerd
