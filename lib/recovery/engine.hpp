#pragma once
// One attempt of an incident: the decision (probe the unit, ask each
// executor whether it can act, apply AllowedActions= and the escalation
// rule, then let the policy choose among what is left), the executor, and
// validation, which polls the target's health every 0.5 s for up to the
// recovery timeout. The result is an ActionRecord for the caller to store.
//
// RecoveryEngine::decide and ::run block (probes, executor, validation); the
// daemon calls them on worker threads. They touch no storage and no bus.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "recovery/backend.hpp"
#include "rl/observation.hpp"
#include "rl/policy.hpp"
#include "storage/store.hpp"

namespace heal {

using SteadyTime = std::chrono::steady_clock::time_point;

struct HealthReport {
    SteadyTime observed;  // when the sample behind it was taken
    bool healthy = false;
};

// The latest judgement of each target's health.
class HealthProbe {
public:
    virtual ~HealthProbe() = default;
    // `unit` "" is the whole machine; nullopt before the first judgement.
    virtual std::optional<HealthReport> latest(const std::string& unit) const = 0;
};

// The daemon's HealthProbe: the loop thread publishes each tick's verdicts,
// recovery threads read them.
class HealthBoard final : public HealthProbe {
public:
    void publish(const std::string& unit, HealthReport report);
    std::optional<HealthReport> latest(const std::string& unit) const override;

private:
    mutable std::mutex mutex_;
    std::map<std::string, HealthReport> reports_;
};

// Time as the engine sees it; tests substitute one whose sleep advances it.
class EngineClock {
public:
    virtual ~EngineClock() = default;
    virtual SteadyTime now() const = 0;
    virtual TimePoint wall_now() const = 0;
    virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

class RealClock final : public EngineClock {
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    TimePoint wall_now() const override { return std::chrono::system_clock::now(); }
    void sleep_for(std::chrono::milliseconds duration) override;
};

struct RecoveryPlan {
    std::string unit;                     // "" for the whole machine
    std::optional<Action> action;         // requested by the operator, else chosen
    ActionSet allowed = all_actions();    // AllowedActions=
    ActionSet tried;                      // already tried in this incident (escalation_candidates)
    Observation observation;              // from the monitor and the incident; the engine adds the probe's view
    std::string reason;                   // why: the detector's explanation
    LimitCeilings ceilings;               // the unit's scale_up ceilings
    std::vector<LimitChange> raised;      // limits healerd raised and has not restored yet
    std::shared_ptr<const Policy> policy;
    std::shared_ptr<const Policy> shadow;  // Mode=shadow: asked as well, never acts
    std::chrono::milliseconds timeout{5000};
};

// What would be done now, and why every other action is not.
struct Decision {
    Observation observation;  // as the policy saw it, the probe's view included
    FailureKind kind = FailureKind::transient;
    ActionProbabilities probabilities{};
    // Per action, why it is not a candidate ("" for candidates): not in
    // AllowedActions=, the executor's own reason, the escalation rule, or a
    // policy that never chooses it.
    std::array<std::string, kActionCount> excluded;
    std::optional<Action> action;         // nullopt: nothing left to try
    std::optional<Action> shadow_action;  // what plan.shadow would do
    std::string why_none;                 // when action is nullopt
    std::optional<std::string> control_group;
};

struct RecoveryOutcome {
    ActionRecord record;
    std::string detail;                        // what the executor reported
    bool cancelled = false;                    // validation cut short by shutdown: do not store
    bool not_run = false;                      // nothing could be tried (detail says why): not an attempt
    std::optional<SteadyTime> healed_at;       // when validation saw it healthy
    std::optional<Action> shadow_action;
    std::optional<std::string> control_group;  // the unit's cgroup as the probe last saw it
    std::vector<LimitChange> limit_changes;    // what the action raised
};

// What probably went wrong, from what the policy sees.
FailureKind classify_failure(const Observation& observation);

class RecoveryEngine {
public:
    static constexpr std::chrono::milliseconds kPollInterval{500};

    RecoveryEngine(const HealthProbe& health, EngineClock& clock);

    // Called once the action is chosen, before it runs, with the record as
    // far as it is known (to log it, and to store it ahead: it may set
    // record.id). Returning false abandons the recovery before anything runs
    // (outcome.cancelled).
    using DecidedCallback = std::function<bool(ActionRecord& record)>;
    // Called with each state the engine probes, right after the action too:
    // an action may change what the unit is judged against (scale_up).
    using ProbedCallback = std::function<void(const UnitState& state)>;

    // Thread-safe. The observation's unit liveness and package change come
    // from the probe when it answers.
    Decision decide(const RecoveryPlan& plan, Backend& backend, const ProbedCallback& on_probed = {}) const;

    // Thread-safe: recoveries of different targets may run at once. Stops
    // validating early (outcome.cancelled) once `cancel` is set.
    RecoveryOutcome run(const RecoveryPlan& plan, Backend& backend, const std::atomic<bool>& cancel,
                        const DecidedCallback& on_decided = {}, const ProbedCallback& on_probed = {}) const;

private:
    const HealthProbe& health_;
    EngineClock& clock_;
};

}  // namespace heal
