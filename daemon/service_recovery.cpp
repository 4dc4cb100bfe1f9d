// Service: recoveries (operator-requested and automatic) on worker threads, and fault injection.
#include "service.hpp"

#include <condition_variable>
#include <mutex>

#include "service_internal.hpp"
#include "core/limit_text.hpp"
#include "config/fault_injection.hpp"

namespace healerd {

// ---- recovery ---------------------------------------------------------------

std::string Service::recovery_target(const std::string& unit) const {
    if (!unit.empty()) {
        const heal::TargetStatus* status = target_status(unit);
        if (!status) throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
        if (recoveries_.contains(unit))
            throw RequestError(RequestCode::Busy, fmt::format("a recovery of {} is already running", unit));
        if (!status->failed)
            throw RequestError(RequestCode::Healthy, fmt::format("{} is healthy; nothing to recover", unit));
        return unit;
    }
    // Let healerd choose: a failed unit first (a unit is a cause, the
    // machine usually a symptom), then the machine.
    const auto& targets = monitor_.targets();  // the machine first
    std::vector<const heal::TargetStatus*> order;
    for (std::size_t i = 1; i < targets.size(); ++i) order.push_back(&targets[i]);
    order.push_back(&targets.front());
    bool any_failed = false;
    for (const heal::TargetStatus* status : order) {
        if (!status->failed) continue;
        any_failed = true;
        if (!recoveries_.contains(status->unit)) return status->unit;
    }
    if (any_failed) throw RequestError(RequestCode::Busy, "every failed target is already being recovered");
    throw RequestError(RequestCode::Healthy, "the machine and every watched unit are healthy; nothing to recover");
}

void Service::check_breaker(const std::string& target) {
    const auto now = std::chrono::steady_clock::now();
    if (const auto until = breaker_.open_until(target, now)) {
        const auto wait = std::chrono::ceil<std::chrono::seconds>(*until - now).count();
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("circuit breaker for {} is open: {} recoveries failed within {}s; retry in {}s",
                                       target_name(target), config_.circuit_breaker_burst,
                                       config_.circuit_breaker_interval.count(), wait));
    }
}

void Service::recover(const heal::Caller& caller, const std::string& unit, const std::string& action_name,
                      RecoveryDone done) {
    authorize(caller, "Recover");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    std::optional<Action> action;
    if (!action_name.empty()) {
        action = heal::parse_action(action_name);
        if (!action)
            throw RequestError(RequestCode::InvalidArgument,
                               fmt::format("unknown action '{}' (restart, scale_up, rollback, do_nothing)", action_name));
    }
    const std::string target = recovery_target(unit);
    if (target.empty()) {
        // Refused before an incident or an attempt is stored: on a real host nothing acts on the machine.
        const heal::Applicability machine = heal::assess_actions(*backend_, heal::RecoveryRequest{});
        if (machine.actions.none())
            throw RequestError(RequestCode::NotAllowed,
                               fmt::format("the machine cannot be recovered: {}",
                                           machine.reasons[static_cast<std::size_t>(Action::do_nothing)]));
    }
    if (pauses_->paused(target, std::chrono::system_clock::now()))
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("{} is paused ({}); resume it first", target_name(target),
                                       pause_description(*pauses_->find(target))));
    const heal::ActionSet allowed = config_.allowed_actions_of(target);
    if (action && !heal::contains(allowed, *action))
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("{} is not in AllowedActions= of {}", action_name, target_name(target)));
    if (allowed.none())
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("AllowedActions= allows no action on {}", target_name(target)));
    check_breaker(target);
    // The operator's request is an attempt of the open incident; after a
    // give-up, the operator starts a new one.
    const auto now = std::chrono::steady_clock::now();
    if (!incidents_->active(target)) {
        incidents_->open(*target_status(target), config_.incident_options(target), now);
        report_incident_news();
    }
    start_recovery(target, action, std::move(done));
    recoveries_.at(target).requested = action.has_value();
}

heal::RecoveryPlan Service::plan_for(const std::string& target, std::optional<Action> action) const {
    const heal::TargetStatus& status = *target_status(target);
    heal::RecoveryPlan plan;
    plan.unit = target;
    plan.action = action;
    plan.allowed = config_.allowed_actions_of(target);
    plan.ceilings = config_.ceilings_of(target);
    plan.raised = raises_->raised(target);
    plan.observation = status.observation();
    if (const heal::Incident* incident = incidents_->active(target)) {
        plan.tried = incident->tried();
        incident->describe(plan.observation, std::chrono::steady_clock::now());
    }
    for (const heal::Verdict& verdict : status.verdicts)
        if (verdict.anomalous) plan.reason += (plan.reason.empty() ? "" : "; ") + verdict.reason;
    // Shadow mode: the ladder acts; a trained model is only asked.
    const bool shadow = config_.mode == heal::RecoveryMode::shadow;
    plan.policy = shadow ? ladder_ : policy_;
    if (shadow && model_loaded_) plan.shadow = policy_;
    plan.timeout = config_.recovery_timeout;
    return plan;
}

void Service::start_recovery(const std::string& target, std::optional<Action> action, RecoveryDone done) {
    heal::RecoveryPlan plan = plan_for(target, action);
    Recovery& recovery = recoveries_[target];
    recovery.done = std::move(done);
    std::shared_ptr<heal::Backend> backend = backend_;
    try {
        recovery.thread = std::thread([this, plan = std::move(plan), backend = std::move(backend)] {
            const auto on_decided = [&](heal::ActionRecord& record) {
                if (!store_ahead(record)) return false;
                const std::string kind(heal::to_string(record.failure_kind.value_or(heal::FailureKind::transient)));
                std::vector<LogField> fields = unit_field(plan.unit);
                fields.push_back({"ACTION", std::string(heal::to_string(record.action))});
                fields.push_back({"FAILURE_KIND", kind});
                if (record.id != 0) fields.push_back({"ATTEMPT_ID", std::to_string(record.id)});
                if (record.incident_id) fields.push_back({"INCIDENT_ID", std::to_string(*record.incident_id)});
                log(LOG_INFO, message_id::recovery_started,
                    fmt::format("recovering {} with {} ({}, attempt {}{}){}", target_name(plan.unit),
                                heal::to_string(record.action), kind, plan.observation.attempts + 1,
                                plan.action ? ", requested" : "", plan.reason.empty() ? "" : ": " + plan.reason),
                    fields);
                return true;
            };
            heal::RecoveryOutcome outcome;
            try {
                const auto on_probed = [&](const heal::UnitState& state) {
                    if (!plan.unit.empty()) learn_memory_limits(plan.unit, state);
                };
                outcome = engine_.run(plan, *backend, stopping_, on_decided, on_probed);
            } catch (const std::exception& e) {
                outcome.cancelled = true;
                outcome.detail = e.what();
            }
            queue_.post([this, unit = plan.unit, outcome = std::move(outcome)]() mutable {
                finish_recovery(unit, std::move(outcome));
            });
        });
    } catch (const std::system_error& e) {
        recoveries_.erase(target);
        throw RequestError(RequestCode::Failed, fmt::format("cannot start a recovery thread: {}", e.what()));
    }
}

bool Service::store_ahead(heal::ActionRecord& record) {
    // On a worker thread: the store belongs to the loop. The attempt is
    // stored before it runs, so that no executed action is missing from the
    // history whatever happens next; at shutdown the wait is abandoned, and
    // then the action does not run.
    struct Handoff {
        std::mutex mutex;
        std::condition_variable stored;
        bool done = false;
        bool abandoned = false;
        heal::ActionRecord record;
    };
    auto handoff = std::make_shared<Handoff>();
    handoff->record = record;
    queue_.post([this, handoff] {
        std::lock_guard lock(handoff->mutex);
        if (handoff->abandoned) return;
        handoff->record.id = incidents_->begin_attempt(handoff->record, std::chrono::steady_clock::now());
        report_incident_news();
        // A restarted service is probed afresh, as Kubernetes does after a container restart.
        const Action action = handoff->record.action;
        if (action == Action::restart || action == Action::rollback) probes_->restart(handoff->record.unit);
        handoff->done = true;
        handoff->stored.notify_all();
    });
    std::unique_lock lock(handoff->mutex);
    while (!handoff->done) {
        if (stopping_) {
            handoff->abandoned = true;
            return false;
        }
        handoff->stored.wait_for(lock, std::chrono::milliseconds(100));
    }
    record = handoff->record;
    return true;
}

void Service::finish_recovery(const std::string& target, heal::RecoveryOutcome outcome) {
    auto node = recoveries_.extract(target);
    Recovery& recovery = node.mapped();
    if (recovery.thread.joinable()) recovery.thread.join();
    const auto now = std::chrono::steady_clock::now();
    const heal::Incident* incident = incidents_->active(target);
    heal::ActionRecord& record = outcome.record;
    learn_control_group(target, outcome.control_group);

    if (outcome.not_run) {
        log_warning(fmt::format("cannot recover {}: {}", target_name(target), outcome.detail));
        // Nothing left that the policy may try: the escalation is exhausted.
        if (incident && !recovery.requested) give_up(target, outcome.detail);
        if (recovery.done) recovery.done(RequestError(RequestCode::NotAllowed, outcome.detail));
        return;
    }
    if (outcome.cancelled) {
        const std::string why = stopping_ ? "healerd is shutting down" : outcome.detail;
        log_warning(fmt::format("recovery of {} abandoned: {}", target_name(target), why));
        incidents_->finish_attempt(target, heal::AttemptResult::interrupted, now);
        if (record.id != 0) {
            // It ran, but was not judged: neither a success nor a failure.
            record.phase = heal::AttemptPhase::interrupted;
            record.detail = why;
            complete_attempt(record);
        }
        if (recovery.done) recovery.done(RequestError(RequestCode::Failed, "recovery abandoned: " + why));
        return;
    }
    record.detail = outcome.detail;
    if (!outcome.limit_changes.empty()) record_raise(target, outcome.limit_changes);
    // If the incident ends on this, the restart cleared what needed the room.
    if (record.action == Action::restart && record.recovered && raises_->find(target)) restart_healed_.insert(target);
    // A dry run only said what it would do: it never counts as a failure.
    if (dry_running()) record.phase = heal::AttemptPhase::dry_run;
    complete_attempt(record);
    const heal::AttemptResult result = record.phase == heal::AttemptPhase::dry_run ? heal::AttemptResult::dry_run
                                       : record.recovered                        ? heal::AttemptResult::healed
                                                                                 : heal::AttemptResult::failed;
    incidents_->finish_attempt(target, result, now, outcome.healed_at);
    report_incident_news();

    const bool dry_run = result == heal::AttemptResult::dry_run;
    const std::string result_name = dry_run ? "dry_run" : record.recovered ? "recovered" : "failed";
    std::vector<LogField> fields = unit_field(target);
    fields.push_back({"ACTION", std::string(heal::to_string(record.action))});
    fields.push_back({"RESULT", result_name});
    fields.push_back({"REWARD", fmt::format("{:.2f}", record.reward)});
    if (record.recovery_time) fields.push_back({"RECOVERY_TIME", format_seconds(*record.recovery_time)});
    if (record.incident_id) fields.push_back({"INCIDENT_ID", std::to_string(*record.incident_id)});
    std::string timing =
        record.recovery_time ? fmt::format(" in {}s", format_seconds(*record.recovery_time))
                             : fmt::format(" (not healthy within {}s)", format_seconds(config_.recovery_timeout.count() / 1000.0));
    if (incident && record.recovered)
        timing += fmt::format(", resolved if it stays healthy for {}s", incident->options().stable.count());
    else if (incident && incident->next_attempt_at())
        timing += fmt::format(", next attempt in {}s",
                              std::chrono::ceil<std::chrono::seconds>(*incident->next_attempt_at() - now).count());
    // A dry run neither failed nor healed: it says what it would have done.
    const std::string message =
        dry_run ? fmt::format("{} of {}: not run (DryRun=yes); {}", heal::to_string(record.action), target_name(target),
                              outcome.detail)
                : fmt::format("{} of {}: {}{}, reward {:.2f}{}; {}", heal::to_string(record.action),
                              target_name(target), result_name, timing, record.reward,
                              backend_->simulated() ? " (simulated)" : "", outcome.detail);
    log(dry_run ? LOG_NOTICE : record.recovered ? LOG_INFO : LOG_WARNING, message_id::recovery_finished, message,
        fields);
    if (outcome.shadow_action) {
        std::vector<LogField> shadow = unit_field(target);
        shadow.push_back({"ACTION", std::string(heal::to_string(record.action))});
        shadow.push_back({"SHADOW_ACTION", std::string(heal::to_string(*outcome.shadow_action))});
        log(LOG_INFO, {},
            fmt::format("shadow mode: the {} policy would have chosen {} where the ladder chose {} on {}",
                        policy_->name(), heal::to_string(*outcome.shadow_action), heal::to_string(record.action),
                        target_name(target)),
            shadow);
    }
    if (events_) events_->recovery_finished(record);
    if (recovery.done) recovery.done(RecoveryReply{record, outcome.detail});
}

void Service::complete_attempt(heal::ActionRecord& record) {
    try {
        if (record.id != 0) {
            store_->finish_attempt(record);
        } else {
            record.id = store_->add_action(record);  // storing ahead had failed
        }
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot store the recovery of {}: {}", target_name(record.unit), e.what()));
    }
}

void Service::close_interrupted_attempts() {
    try {
        if (const std::int64_t interrupted = store_->interrupt_running())
            log_warning(fmt::format("{} recovery attempt(s) were still running when healerd last stopped; "
                                    "stored as interrupted",
                                    interrupted));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot close interrupted attempts: {}", e.what()));
    }
}

// ---- raised limits ------------------------------------------------------------

namespace {

// What the unit uses now, from the percentage the monitor is given.
std::optional<std::uint64_t> memory_in_use(const std::vector<heal::TargetReading>& readings, const std::string& unit,
                                           std::uint64_t machine_bytes) {
    const auto reading = std::find_if(readings.begin(), readings.end(),
                                      [&](const heal::TargetReading& r) { return r.unit == unit; });
    if (reading == readings.end() || !reading->memory) return std::nullopt;
    const std::uint64_t whole = reading->memory_max_bytes.value_or(machine_bytes);
    if (whole == 0) return std::nullopt;
    return static_cast<std::uint64_t>(*reading->memory / 100.0 * static_cast<double>(whole));
}

std::string expiry_text(std::chrono::seconds expire) {
    return expire.count() == 0 ? std::string("kept until reboot (ScaleUpExpireSec=0)")
                               : fmt::format("put back once it has been stable for {}s", expire.count());
}

}  // namespace

bool Service::troubled(const std::string& unit) const {
    const heal::TargetStatus* status = target_status(unit);
    return (status && status->failed) || incidents_->active(unit) || recoveries_.contains(unit);
}

void Service::record_raise(const std::string& unit, const std::vector<heal::LimitChange>& changes) {
    std::vector<LogField> fields = unit_field(unit);
    fields.push_back({"LIMITS", heal::describe(changes)});
    try {
        raises_->record(unit, changes, std::chrono::system_clock::now());
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot store the limits raised on {} ({}): they stay until reboot: {}", unit,
                              heal::describe(changes), e.what()));
        return;
    }
    restore_deferred_.erase(unit);
    restart_healed_.erase(unit);  // an incident that ends now ends on the raise
    const heal::UnitRaise& raise = *raises_->find(unit);
    std::vector<std::string> configured;
    for (const heal::LimitChange& change : raise.changes)
        configured.push_back(fmt::format("{} {}", heal::limit_name(change.property),
                                         heal::format_limit(change.property, change.from)));
    log(LOG_NOTICE, message_id::limit_raised,
        fmt::format("limits of {} raised by scale_up: {}; configured {}, {}", unit, heal::describe(changes),
                    fmt::join(configured, ", "), expiry_text(config_.scale_up_expire)),
        fields);
    publish_state();  // RaisedLimits says so from now on, not from the next tick
}

void Service::restore_raised_limits(const std::vector<heal::TargetReading>& readings) {
    const auto now = std::chrono::system_clock::now();
    for (const auto& [unit, raise] : raises_->all())
        if (troubled(unit)) raises_->unsettle(unit, now);
    for (const std::string& unit : raises_->due(now, config_.scale_up_expire)) {
        // A pause means no action, and a restore is one.
        if (restoring_.contains(unit) || pauses_->paused(unit, now)) continue;
        const auto blocked = heal::restore_blocked(*raises_->find(unit), memory_in_use(readings, unit, memory_total_bytes_));
        if (blocked) {
            if (restore_deferred_.insert(unit).second)
                log(LOG_NOTICE, message_id::limit_restore_deferred,
                    fmt::format("raised limits of {} stay for now: {}", unit, *blocked), unit_field(unit));
            continue;
        }
        start_restore(unit, fmt::format("stable for {}s", config_.scale_up_expire.count()));
    }
}

void Service::start_restore(const std::string& unit, const std::string& why) {
    if (restoring_.contains(unit) || stopping_) return;
    restoring_.insert(unit);
    restore_deferred_.erase(unit);
    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([this, unit, why, changes = raises_->raised(unit), backend = std::move(backend)] {
        heal::ExecutionResult result;
        try {
            result = backend->restorer->restore(unit, changes);
            if (result.ok) learn_memory_limits(unit, backend->probe->probe(unit));  // judged against the old limit again
        } catch (const std::exception& e) {
            if (!result.ok) result = heal::ExecutionResult{false, e.what()};
        }
        return std::function<void()>([this, unit, why, result] { finish_restore(unit, result, why); });
    });
}

void Service::finish_restore(const std::string& unit, const heal::ExecutionResult& result, const std::string& why) {
    restoring_.erase(unit);
    if (!result.ok) {
        // Tried again after another stable period, not at every tick.
        raises_->unsettle(unit, std::chrono::system_clock::now());
        log_warning(fmt::format("cannot put back the limits raised on {}: {}; {}", unit, result.detail,
                                expiry_text(config_.scale_up_expire)));
        return;
    }
    try {
        raises_->forget(unit);
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot store that the limits of {} were put back: {}", unit, e.what()));
    }
    std::vector<LogField> fields = unit_field(unit);
    fields.push_back({"LIMITS", heal::describe(result.limit_changes)});
    log(LOG_NOTICE, message_id::limit_restored, fmt::format("limits of {} put back ({}): {}", unit, why, result.detail),
        fields);
    publish_state();
}

// ---- fault injection ----------------------------------------------------------

void Service::simulate_failure(const heal::Caller& caller, const std::string& kind, const std::string& unit,
                               InjectionDone done) {
    authorize(caller, "SimulateFailure");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    if (kind.empty() || kind == "synthetic") {
        overlay_->inject_synthetic(unit);
        const std::string what = fmt::format(
            "synthetic failure injected into {}: high CPU and memory until recovered (at most {} samples)",
            target_name(unit), heal::FaultOverlay::kSyntheticSamples);
        log_info(what);
        done(what);
        return;
    }
    const auto mode = heal::parse_fault_mode(kind);
    if (!mode)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("unknown failure kind '{}' (synthetic, cpu_runaway, memory_leak, crash, hang)", kind));
    if (unit.empty())
        throw RequestError(RequestCode::InvalidArgument, fmt::format("failure kind {} needs a watched unit", kind));
    // With either backend, so a configuration behaves the same when simulated.
    if (const auto refusal = heal::real_fault_refusal(config_, options_.config_path, unit))
        throw RequestError(RequestCode::FaultInjectionNotAllowed, *refusal);

    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([this, mode = *mode, unit, backend = std::move(backend), done = std::move(done)] {
        heal::InjectionResult result;
        try {
            result = backend->injector->inject(mode, unit);
        } catch (const std::exception& e) {
            result = heal::InjectionResult{false, e.what()};
        }
        return std::function<void()>([result, done] {
            if (result.ok) {
                log_info(result.detail);
                done(result.detail);
            } else {
                log_warning(fmt::format("fault injection failed: {}", result.detail));
                done(RequestError(RequestCode::Failed, result.detail));
            }
        });
    });
}

void Service::run_worker(std::function<std::function<void()>()> work) {
    const std::uint64_t id = next_worker_++;
    workers_[id] = std::thread([this, id, work = std::move(work)] {
        std::function<void()> then = work();
        queue_.post([this, id, then = std::move(then)] {
            auto node = workers_.extract(id);
            if (!node.empty() && node.mapped().joinable()) node.mapped().join();
            then();
        });
    });
}

}  // namespace healerd
