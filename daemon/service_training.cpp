// Service: training a policy on a worker thread, and loading the model.
#include "service.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include "core/idle_memory.hpp"
#include "service_internal.hpp"
#include "rl/model_file.hpp"
#include "rl/provenance.hpp"

namespace healerd {

// ---- training ---------------------------------------------------------------

void Service::train(const heal::Caller& caller, std::uint32_t episodes) {
    authorize(caller, "Train");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (episodes < 1 || episodes > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("episodes must be 1-{} (got {})", kMaxLimit, episodes));
    if (training_) throw RequestError(RequestCode::Busy, "training is already running");
    start_training(episodes, nullptr);
}

void Service::maybe_retrain() {
    if (config_.retrain_after == 0 || training_ || stopping_) return;
    std::int64_t closed = 0;
    try {
        closed = store_->closed_incidents_since(last_training_);
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot count the incidents closed since the last training: {}", e.what()));
        return;
    }
    if (closed < config_.retrain_after) return;
    log_info(fmt::format("{} incident(s) closed since the last training: retraining the policy", closed));
    try {
        start_training(config_.retrain_episodes, policy_);
    } catch (const RequestError& e) {
        log_error(fmt::format("cannot retrain: {}", e.what()));
    }
}

void Service::start_training(std::uint32_t episodes, std::shared_ptr<const heal::Policy> incumbent) {
    heal::TrainingRequest request;
    request.episodes = episodes;
    request.seed = random_seed();
    request.model_path = model_path_;
    request.incumbent = std::move(incumbent);
    heal::Provenance provenance{"healerd", {heal::local_host_name()}, 0, episodes, request.seed};
    try {
        provenance.incidents = store_->closed_incidents_since(std::chrono::system_clock::time_point{});
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
    request.provenance = heal::provenance_json(provenance, request.history);

    cancel_training_ = false;
    log_info(fmt::format("training a recovery policy for {} episodes on {} stored recovery attempt(s)", episodes,
                         request.history.size()));
    const std::string incumbent_name(request.incumbent ? request.incumbent->name() : "");
    try {
        trainer_ = std::thread([this, request = std::move(request), incumbent_name] {
            // Retraining is healerd's own idea: it must not compete with the services it watches.
            if (request.incumbent) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
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
            queue_.post([this, result, error = std::move(error), incumbent_name] {
                finish_training(result, error, incumbent_name);
            });
        });
    } catch (const std::system_error& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot start a training thread: {}", e.what()));
    }
    training_ = true;  // only once the thread exists: it alone clears the flag
    publish_state();
}

void Service::finish_training(heal::TrainingResult result, std::string error, const std::string& incumbent) {
    if (trainer_.joinable()) trainer_.join();
    training_ = false;
    last_training_ = std::chrono::system_clock::now();
    bool success = error.empty() && !result.cancelled;
    std::string message;
    if (!error.empty()) {
        message = fmt::format("training failed: {}", error);
    } else if (result.cancelled) {
        message = fmt::format("training cancelled after {} episodes; the model was not saved", result.episodes);
    } else if (!result.saved) {
        message = fmt::format("trained {} episodes ({} steps), mean reward {:.2f}; not saved: the {} policy in use "
                              "scores better",
                              result.episodes, result.steps, result.mean_reward, incumbent);
    } else {
        message = fmt::format("trained {} episodes ({} steps), mean reward {:.2f}; saved {}", result.episodes,
                              result.steps, result.mean_reward, model_path_.string());
        try {
            policy_ = heal::load_policy(model_path_, &model_provenance_);
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
    if (result.new_score && result.incumbent_score) report_retraining(result, incumbent);
    if (events_) events_->training_finished(success, result.episodes, result.mean_reward, message);
    publish_state();
    // Training's matrices and code are not the loop's; give them back unless a recovery's thread runs.
    heal::release_idle_memory();
}

void Service::report_retraining(const heal::TrainingResult& result, const std::string& incumbent) const {
    log(LOG_INFO, message_id::policy_retrained,
        fmt::format("retrained policy: the new model scores {:.1f} and the {} policy in use {:.1f} over the same {} "
                    "calibrated incidents; {}",
                    *result.new_score, incumbent, *result.incumbent_score, heal::kComparisonEpisodes,
                    result.saved ? "the new model is adopted" : "the policy in use is kept"),
        {{"NEW_SCORE", fmt::format("{:.2f}", *result.new_score)},
         {"CURRENT_SCORE", fmt::format("{:.2f}", *result.incumbent_score)},
         {"CURRENT_POLICY", incumbent},
         {"RESULT", result.saved ? "adopted" : "kept"}});
}

void Service::load_model(bool at_startup) {
    std::error_code ec;
    if (const auto written = std::filesystem::last_write_time(model_path_, ec); !ec)
        last_training_ = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
            std::chrono::file_clock::to_sys(written));
    if (!std::filesystem::exists(model_path_, ec)) {
        if (at_startup) log_info(fmt::format("no trained model at {}; using the default ladder", model_path_.string()));
        return;
    }
    try {
        std::string provenance;
        policy_ = heal::load_policy(model_path_, &provenance);
        model_loaded_ = true;
        model_provenance_ = std::move(provenance);
        const auto origin = heal::describe_provenance(model_provenance_);
        log_info(fmt::format("loaded the {} policy from {} ({})", policy_->name(), model_path_.string(),
                             origin.value_or("no provenance recorded")));
    } catch (const heal::ModelError& e) {
        log_error(fmt::format("{}; {} (the file is left as it is)", e.what(),
                              at_startup ? "using the default ladder" : "keeping the policy in use"));
    }
}

}  // namespace healerd
