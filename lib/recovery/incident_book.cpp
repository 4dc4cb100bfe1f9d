#include "recovery/incident_book.hpp"

#include <utility>

#include <fmt/format.h>

#include "core/target.hpp"
#include "recovery/engine.hpp"

namespace heal {
namespace {

// Wall-clock time of a steady-clock instant (for storage).
TimePoint wall_time_of(SteadyTime at) {
    return std::chrono::system_clock::now() -
           std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - at);
}

}  // namespace

std::string_view to_string(Incident::State state) {
    switch (state) {
    case Incident::State::waiting: return "waiting";
    case Incident::State::attempting: return "attempting";
    case Incident::State::stabilizing: return "stabilizing";
    case Incident::State::resolved: return "resolved";
    case Incident::State::given_up: return "given_up";
    }
    return "unknown";
}

void IncidentBook::track(const std::vector<TargetStatus>& targets, const std::function<bool(const std::string&)>& busy,
                         const OptionsFor& options_for, SteadyTime now) {
    const auto status_of = [&](const std::string& unit) -> const TargetStatus* {
        for (const TargetStatus& status : targets)
            if (status.unit == unit) return &status;
        return nullptr;
    };
    for (auto it = incidents_.begin(); it != incidents_.end();) {
        Tracked& tracked = it->second;
        const TargetStatus* status = status_of(it->first);
        if (!status) {  // no longer watched
            if (busy(it->first)) {
                ++it;
                continue;
            }
            tracked.record.detail = "the target is no longer watched";
            store(tracked, IncidentOutcome::interrupted);
            it = incidents_.erase(it);
            continue;
        }
        if (!status->observed) {
            ++it;
            continue;
        }
        const auto change = tracked.incident.observe(status->failed, now);
        if (change == Incident::Change::relapsed) relapsed(tracked, now);
        // Resolved, or given up and out of failure: a new failure is a new incident.
        if (change == Incident::Change::resolved) {
            resolved(tracked, now);
            it = incidents_.erase(it);
        } else if (tracked.incident.state() == Incident::State::given_up && !status->failed) {
            it = incidents_.erase(it);
        } else {
            ++it;
        }
    }
    for (const TargetStatus& status : targets)
        if (status.observed && status.failed && !incidents_.contains(status.unit))
            open(status, options_for(status.unit), now);
}

void IncidentBook::open(const TargetStatus& status, IncidentOptions options, SteadyTime now) {
    const FailureKind kind = classify_failure(status.observation());
    Tracked tracked{Incident(status.unit, kind, now, options), {}};
    tracked.record.unit = status.unit;
    tracked.record.failure_kind = kind;
    tracked.record.opened = wall_time_of(now);
    try {
        tracked.record.id = store_.open_incident(tracked.record);
    } catch (const StoreError& e) {
        report_store_error(status.unit, "the incident", e);
    }
    tracked.incident.record_id = tracked.record.id;
    auto [it, inserted] = incidents_.insert_or_assign(status.unit, std::move(tracked));
    report(IncidentNews::Kind::opened, it->second, fmt::format("incident opened on {}", target_name(status.unit)));
}

IncidentBook::Tracked* IncidentBook::open_tracked(const std::string& target) {
    const auto it = incidents_.find(target);
    return it != incidents_.end() && !it->second.incident.closed() ? &it->second : nullptr;
}

const Incident* IncidentBook::active(const std::string& target) const {
    const Incident* incident = find(target);
    return incident && !incident->closed() ? incident : nullptr;
}

const Incident* IncidentBook::find(const std::string& target) const {
    const auto it = incidents_.find(target);
    return it != incidents_.end() ? &it->second.incident : nullptr;
}

std::vector<std::string> IncidentBook::due(SteadyTime now) const {
    std::vector<std::string> targets;
    for (const auto& [target, tracked] : incidents_)
        if (tracked.incident.due(now)) targets.push_back(target);
    return targets;
}

std::int64_t IncidentBook::begin_attempt(ActionRecord& record, SteadyTime now) {
    Tracked* tracked = open_tracked(record.unit);
    if (tracked && tracked->record.id != 0) record.incident_id = tracked->record.id;
    std::int64_t id = 0;
    try {
        id = store_.begin_attempt(record);
    } catch (const std::exception& e) {  // StoreError; the recovery still runs
        report_store_error(record.unit, "the attempt before it runs", e);
    }
    if (tracked) {
        // The probe sees what the monitor cannot (a dead unit, a package change).
        if (tracked->incident.attempts().empty() && record.failure_kind)
            tracked->incident.reclassify(*record.failure_kind);
        tracked->incident.begin_attempt(record.action, now, id);
        store(*tracked);
    }
    return id;
}

void IncidentBook::finish_attempt(const std::string& target, AttemptResult result, SteadyTime now,
                                  std::optional<SteadyTime> healed_at) {
    if (result == AttemptResult::failed) breaker_.record(target, false, now);
    if (Tracked* tracked = open_tracked(target)) {
        tracked->incident.finish_attempt(result, now, healed_at);
        store(*tracked);
    }
}

void IncidentBook::relapsed(Tracked& tracked, SteadyTime now) {
    const Incident& incident = tracked.incident;
    const auto& attempts = incident.attempts();
    std::string what = "left failure, then failed again";
    if (!attempts.empty() && attempts.back().result == AttemptResult::relapsed) {
        const IncidentAttempt& attempt = attempts.back();
        what = fmt::format("failed again within {}s of {} seeming to heal it", incident.options().stable.count(),
                           to_string(attempt.action));
        breaker_.record(incident.unit(), false, now);
        if (attempt.record_id != 0) {
            try {
                store_.mark_relapsed(attempt.record_id);
            } catch (const StoreError& e) {
                report_store_error(incident.unit(), "the attempt's relapse", e);
            }
        }
    }
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*incident.next_attempt_at() - now).count();
    report(IncidentNews::Kind::relapsed, tracked,
           fmt::format("{} {}: relapse {} of this incident; next attempt in {}s", target_name(incident.unit()), what,
                       incident.relapses(), wait));
    store(tracked);
}

void IncidentBook::resolved(Tracked& tracked, SteadyTime now) {
    const Incident& incident = tracked.incident;
    breaker_.record(incident.unit(), true, now);
    const double mttr = incident.time_to_recover().value_or(0.0);
    report(IncidentNews::Kind::resolved, tracked,
           fmt::format("{} stayed healthy for {}s: incident resolved after {} attempt(s) and {} relapse(s), {:.2f}s "
                       "from failure to durable health",
                       target_name(incident.unit()), incident.options().stable.count(), incident.attempts().size(),
                       incident.relapses(), mttr));
    news_.back().recovery_time = mttr;
    tracked.record.healthy_since = wall_time_of(*incident.healthy_since());
    store(tracked, IncidentOutcome::resolved);
}

void IncidentBook::give_up(const std::string& target, const std::string& reason, bool dry_run) {
    Tracked* tracked = open_tracked(target);
    if (!tracked) return;
    Incident& incident = tracked->incident;
    incident.give_up(reason);
    if (!dry_run) breaker_.record(target, false, std::chrono::steady_clock::now());
    report(IncidentNews::Kind::given_up, *tracked,
           fmt::format("giving up on {} after {} attempt(s){}: {}; it is left to the operator", target_name(target),
                       incident.attempts().size(), dry_run ? " (dry run)" : "", reason));
    tracked->record.detail = reason;
    store(*tracked, dry_run ? IncidentOutcome::dry_run : IncidentOutcome::given_up);
}

void IncidentBook::interrupt_all(const std::string& why) {
    for (auto& [target, tracked] : incidents_) {
        if (tracked.incident.closed()) continue;
        tracked.record.detail = why;
        store(tracked, IncidentOutcome::interrupted);
    }
    incidents_.clear();
}

void IncidentBook::store(Tracked& tracked, std::optional<IncidentOutcome> outcome) {
    IncidentRecord& record = tracked.record;
    record.failure_kind = tracked.incident.kind();
    record.attempts = static_cast<std::int32_t>(tracked.incident.attempts().size());
    record.relapses = static_cast<std::int32_t>(tracked.incident.relapses());
    if (outcome) {
        record.outcome = *outcome;
        record.closed = std::chrono::system_clock::now();
    }
    if (record.id == 0) return;  // storing it at opening failed
    try {
        store_.update_incident(record);
    } catch (const std::exception& e) {  // StoreError, or a record the store refuses
        report_store_error(record.unit, "the incident", e);
    }
}

void IncidentBook::report(IncidentNews::Kind kind, const Tracked& tracked, std::string message) {
    IncidentNews news;
    news.kind = kind;
    news.unit = tracked.incident.unit();
    news.message = std::move(message);
    news.failure_kind = tracked.incident.kind();
    news.attempts = tracked.incident.attempts().size();
    news.relapses = tracked.incident.relapses();
    news.incident_id = tracked.record.id;
    news_.push_back(std::move(news));
}

void IncidentBook::report_store_error(const std::string& target, std::string_view what, const std::exception& error) {
    IncidentNews news;
    news.kind = IncidentNews::Kind::store_failed;
    news.unit = target;
    news.message = fmt::format("cannot store {} on {}: {}", what, target_name(target), error.what());
    news_.push_back(std::move(news));
}

std::vector<IncidentNews> IncidentBook::take_news() { return std::exchange(news_, {}); }

}  // namespace heal
