// Service: the read-only requests, maintenance pauses and who may call what.
#include "service.hpp"

#include <algorithm>
#include <cmath>

#include <grp.h>

#include <cerrno>

#include "service_internal.hpp"

namespace healerd {

namespace {
// The group whose members may call the mutating methods (sysusers.d/healerd.conf).
constexpr const char* kAdminGroup = "healerd";
}  // namespace

// ---- read-only requests ----------------------------------------------------

namespace {
void check_limit(std::uint32_t limit) {
    if (limit < 1 || limit > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument, fmt::format("limit must be 1-{} (got {})", kMaxLimit, limit));
}
}  // namespace

std::vector<heal::MetricRecord> Service::metrics(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetMetrics", limit);
    try {
        // Queued samples come from memory: a read never forces a write.
        return metric_writer_->recent(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

std::vector<heal::ActionRecord> Service::actions(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetActions", limit);
    try {
        return store_->recent_actions(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

std::vector<heal::IncidentRecord> Service::incidents(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetIncidents", limit);
    try {
        return store_->recent_incidents(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

namespace {
std::uint32_t page_limit(const heal::HistoryPage& page) {
    if (page.limit < 1 || page.limit > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument, fmt::format("limit must be 1-{} (got {})", kMaxLimit, page.limit));
    return static_cast<std::uint32_t>(page.limit);
}

template <typename Read>
auto read_store(Read read) {
    try {
        return read();
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}
}  // namespace

std::vector<heal::MetricRecord> Service::metrics_page(const heal::Caller& caller, const heal::HistoryPage& page) {
    charge_read(caller, "ListMetrics", page_limit(page));
    return read_store([&] {
        if (page.after_id == 0) metric_writer_->flush();
        return store_->metrics_page(page);
    });
}

std::vector<heal::ActionRecord> Service::actions_page(const heal::Caller& caller, const heal::HistoryPage& page) {
    charge_read(caller, "ListActions", page_limit(page));
    return read_store([&] { return store_->actions_page(page); });
}

std::vector<heal::IncidentRecord> Service::incidents_page(const heal::Caller& caller, const heal::HistoryPage& page) {
    charge_read(caller, "ListIncidents", page_limit(page));
    return read_store([&] { return store_->incidents_page(page); });
}

heal::Summary Service::summary() const {
    try {
        return store_->summary();
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

DetectReply Service::detect(std::optional<double> cpu, std::optional<double> memory) const {
    for (const auto& [name, value] : {std::pair{"cpu", cpu}, std::pair{"memory", memory}})
        if (value && !(std::isfinite(*value) && *value >= 0.0 && *value <= 100.0))
            throw RequestError(RequestCode::InvalidArgument,
                               fmt::format("{} must be a percentage from 0 to 100 (got {})", name, *value));
    DetectReply reply;
    reply.verdicts = monitor_.peek(cpu, memory);
    reply.detected = std::any_of(reply.verdicts.begin(), reply.verdicts.end(),
                                 [](const heal::Verdict& v) { return v.anomalous; });
    return reply;
}

PolicyReply Service::policy() const {
    // The state the policy would see if asked to recover now: the first
    // failed target, else the machine.
    const auto& targets = monitor_.targets();
    const auto failed = std::find_if(targets.begin(), targets.end(), [](const heal::TargetStatus& s) { return s.failed; });
    const heal::TargetStatus& status = failed != targets.end() ? *failed : targets.front();
    return PolicyReply{std::string(policy_->name()), policy_->probabilities(status.observation())};
}

void Service::decision(const std::string& unit, DecisionDone done) {
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    std::string target = unit;
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    if (unit.empty()) {
        try {
            target = recovery_target("");
        } catch (const RequestError&) {
            target = "";  // nothing failed (or all busy): the machine as it is now
        }
    }
    DecisionReply reply;
    reply.target = target;
    reply.incident_state = "none";
    if (const heal::Incident* incident = incidents_->find(target)) {
        reply.incident_state = heal::to_string(incident->state());
        reply.attempts = static_cast<std::uint32_t>(incident->attempts().size());
        reply.relapses = incident->relapses();
        // With AutoRecover=no nothing attempts on its own: only the operator's recover.
        if (const auto next = incident->next_attempt_at(); next && config_.auto_recover)
            reply.next_attempt_in =
                std::max(0.0, std::chrono::duration<double>(*next - std::chrono::steady_clock::now()).count());
    }
    heal::RecoveryPlan plan = plan_for(target, std::nullopt);
    reply.policy = std::string(plan.policy->name());
    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([this, plan = std::move(plan), backend = std::move(backend), reply = std::move(reply),
                done = std::move(done)]() mutable -> std::function<void()> {
        try {
            reply.decision = engine_.decide(plan, *backend);
        } catch (const std::exception& e) {
            return [done, error = std::string(e.what())] { done(RequestError(RequestCode::Failed, error)); };
        }
        return [done, reply = std::move(reply)] { done(reply); };
    });
}

// ---- maintenance pauses ------------------------------------------------------------

namespace {

std::vector<LogField> caller_fields(const std::string& unit, const heal::Caller& caller) {
    std::vector<LogField> fields = unit_field(unit);
    fields.push_back({"CALLER_UID", std::to_string(caller.uid)});
    return fields;
}

}  // namespace

void Service::check_pause_target(const std::string& unit) const {
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
}

std::string Service::pause(const heal::Caller& caller, const std::string& unit, std::uint64_t seconds) {
    authorize(caller, "Pause");
    check_pause_target(unit);
    // Ten years: longer is a typo, and keeps the time point exact.
    if (seconds > 315'360'000)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("a pause of {}s is longer than ten years; pause without a duration", seconds));
    const auto now = std::chrono::system_clock::now();
    heal::PauseRecord record{unit, now, std::nullopt, caller.uid};
    if (seconds > 0) record.until = now + std::chrono::seconds(seconds);
    try {
        pauses_->pause(record);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot store the pause: {}", e.what()));
    }
    std::vector<LogField> fields = caller_fields(unit, caller);
    if (record.until) fields.push_back({"PAUSE_SEC", std::to_string(seconds)});
    const std::string what = fmt::format("{} paused {}: sampled and shown, but no action", target_name(unit),
                                         pause_description(record));
    log(LOG_NOTICE, message_id::target_paused, what, fields);
    publish_state();
    return what;
}

std::string Service::resume(const heal::Caller& caller, const std::string& unit) {
    authorize(caller, "Resume");
    // A pause outlives its unit's removal from Units=, and can still be resumed.
    if (!pauses_->find(unit)) {
        check_pause_target(unit);
        throw RequestError(RequestCode::InvalidArgument, fmt::format("{} is not paused", target_name(unit)));
    }
    try {
        pauses_->resume(unit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot remove the pause: {}", e.what()));
    }
    const std::string what = fmt::format("{} resumed: healerd acts on its failures again", target_name(unit));
    log(LOG_NOTICE, message_id::target_resumed, what, caller_fields(unit, caller));
    publish_state();
    return what;
}

void Service::expire_pauses() {
    try {
        for (const heal::PauseRecord& ended : pauses_->expire(std::chrono::system_clock::now()))
            log(LOG_NOTICE, message_id::pause_expired,
                fmt::format("the pause of {} ended: healerd acts on its failures again", target_name(ended.unit)),
                unit_field(ended.unit));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot end a pause: {}", e.what()));
    }
}

// ---- callers ------------------------------------------------------------------

void Service::refresh_access_rule() {
    access_.daemon_uid = geteuid();
    access_.admin_group.reset();
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(1024);
    int r = 0;
    // The buffer grows until the group's member list fits (1 MiB at most).
    while ((r = getgrnam_r(kAdminGroup, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < (1u << 20))
        buffer.resize(buffer.size() * 2);
    if (r == 0 && found) {
        access_.admin_group = found->gr_gid;
    } else if (!options_.user_bus) {
        log_warning(fmt::format("group {} {}: only root may call Recover, Train and SimulateFailure", kAdminGroup,
                                r != 0 ? fmt::format("cannot be looked up ({})", std::generic_category().message(r))
                                       : std::string("does not exist")));
    }
}

void Service::authorize(const heal::Caller& caller, std::string_view method) const {
    if (heal::may_change_state(caller, access_)) return;
    log(LOG_WARNING, message_id::access_denied,
        fmt::format("refused {} from uid {}: only root{} and group {} may change healerd's state", method, caller.uid,
                    access_.daemon_uid == 0 ? "" : fmt::format(", uid {}", access_.daemon_uid), kAdminGroup),
        {{"CALLER_UID", std::to_string(caller.uid)}, {"METHOD", std::string(method)}});
    throw RequestError(RequestCode::AccessDenied,
                       fmt::format("{} needs root or membership in group {}", method, kAdminGroup));
}

void Service::charge_read(const heal::Caller& caller, std::string_view method, std::uint32_t rows) {
    // Whoever may change state may already make healerd work hard (Train).
    if (heal::may_change_state(caller, access_)) return;
    const auto verdict =
        read_budget_.charge(caller.uid, std::max(rows, kMinReadCost), std::chrono::steady_clock::now());
    if (verdict.granted) return;
    const auto retry = verdict.retry_after.count();
    // Once per spell, so a caller in a loop does not flood the journal.
    if (verdict.newly_refused)
        log(LOG_NOTICE, message_id::rate_limited,
            fmt::format("rate limiting {} from uid {}: more than {} rows at once or {} a second", method,
                        caller.uid, kReadBudgetRows, kReadRefillRows),
            {{"CALLER_UID", std::to_string(caller.uid)}, {"METHOD", std::string(method)}});
    throw RequestError(RequestCode::RateLimited,
                       fmt::format("rate limited: {} rows at once, {} a second per user; retry in {} s", kReadBudgetRows,
                                   kReadRefillRows, retry));
}

}  // namespace healerd
