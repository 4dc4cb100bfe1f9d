#pragma once
// One failure of one target, from the first sign of it until the target has
// stayed out of failure for StableSec (resolved) or healerd stops trying
// (given up). It holds every attempt, spaces them with exponential backoff
// (Kubernetes' CrashLoopBackOff), tells a relapse (healed, then failed again
// within StableSec) from a new failure, and says what the policy should know
// of the incident so far. Pure logic on the loop thread: the daemon feeds it
// each tick's health and each attempt's end.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "rl/observation.hpp"

namespace heal {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Backoff {
    std::chrono::seconds initial{10};  // BackoffSec=
    std::chrono::seconds max{300};     // BackoffMaxSec=
    // The wait after `unsuccessful` attempts (>= 1): initial * 2^(n-1), capped at max.
    std::chrono::seconds after(std::size_t unsuccessful) const;

    bool operator==(const Backoff&) const = default;
};

struct IncidentOptions {
    std::chrono::seconds stable{60};  // StableSec=: healthy this long after an attempt = resolved
    Backoff backoff;
    std::uint32_t max_attempts = 5;   // MaxAttempts=: then the incident is given up

    bool operator==(const IncidentOptions&) const = default;
};

enum class AttemptResult {
    running,
    healed,       // validation saw the target healthy; durable only once the incident resolves
    failed,       // not healthy within the recovery timeout, or the action itself failed
    relapsed,     // healed, then failed again within StableSec
    interrupted,  // healerd stopped before it was judged
    dry_run,      // only said what it would do
};

struct IncidentAttempt {
    Action action = Action::do_nothing;
    SteadyTime started;
    AttemptResult result = AttemptResult::running;
    std::int64_t record_id = 0;  // its row in the actions table; 0 when not stored
};

class Incident {
public:
    enum class State {
        waiting,      // failed; the next attempt starts once its backoff has passed
        attempting,   // an attempt runs (the engine validates it)
        stabilizing,  // out of failure since healthy_since; resolved after StableSec
        resolved,
        given_up,
    };
    enum class Change { none, relapsed, resolved };

    Incident(std::string unit, FailureKind kind, SteadyTime opened, IncidentOptions options);

    // Each judgement of the target (ignored while an attempt runs).
    Change observe(bool failed, SteadyTime now);
    // The next attempt may start now.
    bool due(SteadyTime now) const;
    // Why no further attempt may start (the attempt budget is spent), or nullopt.
    std::optional<std::string> exhausted() const;
    void begin_attempt(Action action, SteadyTime now, std::int64_t record_id);
    // `healed_at`: when validation saw the target healthy (healed only).
    void finish_attempt(AttemptResult result, SteadyTime now, std::optional<SteadyTime> healed_at = {});
    void give_up(std::string reason);
    // What went wrong, once the first attempt's probe has told (a dead unit, a package change).
    void reclassify(FailureKind kind) { kind_ = kind; }

    State state() const { return state_; }
    bool closed() const { return state_ == State::resolved || state_ == State::given_up; }
    const std::string& unit() const { return unit_; }
    FailureKind kind() const { return kind_; }
    SteadyTime opened() const { return opened_; }
    const IncidentOptions& options() const { return options_; }
    const std::vector<IncidentAttempt>& attempts() const { return attempts_; }
    // Actions already tried in this incident (each of them did not heal it durably).
    ActionSet tried() const;
    std::uint32_t relapses() const { return relapses_; }
    std::optional<SteadyTime> next_attempt_at() const;  // while waiting
    std::optional<SteadyTime> healthy_since() const { return healthy_since_; }
    // Resolved: seconds from opening to the start of durable health.
    std::optional<double> time_to_recover() const;
    const std::string& give_up_reason() const { return give_up_reason_; }
    // The incident fields of what the policy sees.
    void describe(Observation& observation, SteadyTime now) const;

    std::int64_t record_id = 0;  // its row in the incidents table; 0 when not stored

private:
    std::string unit_;
    FailureKind kind_;
    SteadyTime opened_;
    IncidentOptions options_;
    State state_ = State::waiting;
    std::vector<IncidentAttempt> attempts_;
    SteadyTime next_attempt_at_;
    std::optional<SteadyTime> healthy_since_;
    std::uint32_t relapses_ = 0;
    std::string give_up_reason_;
};

std::string_view to_string(AttemptResult result);

}  // namespace heal
