#include "recovery/incident.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace heal {

std::chrono::seconds Backoff::after(std::size_t unsuccessful) const {
    std::chrono::seconds wait = initial;
    for (std::size_t i = 1; i < unsuccessful && wait < max; ++i) wait *= 2;
    return std::min(wait, max);
}

Incident::Incident(std::string unit, FailureKind kind, SteadyTime opened, IncidentOptions options)
    : unit_(std::move(unit)), kind_(kind), opened_(opened), options_(options), next_attempt_at_(opened) {}

Incident::Change Incident::observe(bool failed, SteadyTime now) {
    switch (state_) {
    case State::waiting:
        if (!failed) {
            state_ = State::stabilizing;
            healthy_since_ = now;
        }
        return Change::none;
    case State::stabilizing:
        if (failed) {
            healthy_since_.reset();
            state_ = State::waiting;
            // Out of failure by itself and back: the same incident, no relapse of an attempt.
            if (attempts_.empty() || attempts_.back().result != AttemptResult::healed) {
                next_attempt_at_ = attempts_.empty() ? now : now + options_.backoff.after(attempts_.size());
                return Change::none;
            }
            ++relapses_;
            attempts_.back().result = AttemptResult::relapsed;
            next_attempt_at_ = now + options_.backoff.after(attempts_.size());
            return Change::relapsed;
        }
        if (now - *healthy_since_ >= options_.stable) {
            state_ = State::resolved;
            return Change::resolved;
        }
        return Change::none;
    case State::attempting:
    case State::resolved:
    case State::given_up:
        return Change::none;
    }
    return Change::none;
}

bool Incident::due(SteadyTime now) const { return state_ == State::waiting && now >= next_attempt_at_; }

std::optional<std::string> Incident::exhausted() const {
    if (attempts_.size() < options_.max_attempts) return std::nullopt;
    return fmt::format("{} attempt(s) did not keep it healthy for {}s (MaxAttempts={})", attempts_.size(),
                       options_.stable.count(), options_.max_attempts);
}

void Incident::begin_attempt(Action action, SteadyTime now, std::int64_t attempt_record) {
    attempts_.push_back(IncidentAttempt{action, now, AttemptResult::running, attempt_record});
    state_ = State::attempting;
}

void Incident::finish_attempt(AttemptResult result, SteadyTime now, std::optional<SteadyTime> healed_at) {
    if (attempts_.empty() || state_ != State::attempting) return;
    attempts_.back().result = result;
    if (result == AttemptResult::healed) {
        state_ = State::stabilizing;
        healthy_since_ = healed_at.value_or(now);
        return;
    }
    state_ = State::waiting;
    next_attempt_at_ = now + options_.backoff.after(attempts_.size());
}

void Incident::give_up(std::string reason) {
    state_ = State::given_up;
    give_up_reason_ = std::move(reason);
}

ActionSet Incident::tried() const {
    ActionSet tried;
    for (const IncidentAttempt& attempt : attempts_) tried.set(static_cast<std::size_t>(attempt.action));
    return tried;
}

std::optional<SteadyTime> Incident::next_attempt_at() const {
    if (state_ != State::waiting) return std::nullopt;
    return next_attempt_at_;
}

std::optional<double> Incident::time_to_recover() const {
    if (state_ != State::resolved || !healthy_since_) return std::nullopt;
    return std::chrono::duration<double>(*healthy_since_ - opened_).count();
}

void Incident::describe(Observation& observation, SteadyTime now) const {
    observation.attempts = static_cast<int>(attempts_.size());
    observation.last_action.reset();
    observation.last_relapsed = false;
    if (!attempts_.empty()) {
        observation.last_action = attempts_.back().action;
        observation.last_relapsed = attempts_.back().result == AttemptResult::relapsed;
    }
    observation.seconds_open = std::max(0.0, std::chrono::duration<double>(now - opened_).count());
    observation.relapses = static_cast<int>(relapses_);
}

std::string_view to_string(AttemptResult result) {
    static constexpr std::array<std::string_view, 6> kNames{"running", "healed", "failed",
                                                            "relapsed", "interrupted", "dry_run"};
    return kNames.at(static_cast<std::size_t>(result));
}

}  // namespace heal
