#include "recovery/engine.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>
#include <thread>

#include "core/escalation.hpp"

namespace heal {

void HealthBoard::publish(const std::string& unit, HealthReport report) {
    std::lock_guard lock(mutex_);
    reports_[unit] = report;
}

std::optional<HealthReport> HealthBoard::latest(const std::string& unit) const {
    std::lock_guard lock(mutex_);
    const auto it = reports_.find(unit);
    if (it == reports_.end()) return std::nullopt;
    return it->second;
}

void RealClock::sleep_for(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

FailureKind classify_failure(const Observation& observation) {
    if (!observation.unit_active)
        return observation.recent_package_change ? FailureKind::bad_deploy : FailureKind::crash;
    if (observation.memory_anomalous) return FailureKind::memory_leak;
    if (observation.cpu_anomalous) return FailureKind::cpu_runaway;
    return FailureKind::transient;
}

namespace {

// The probe is the backend's to implement and may fail (systemd gone, bus
// timeout): then nothing is known and the monitor's view stands.
std::optional<UnitState> probe_unit(Backend& backend, const std::string& unit,
                                    const RecoveryEngine::ProbedCallback& on_probed) {
    try {
        UnitState state = backend.probe->probe(unit);
        if (on_probed) on_probed(state);
        return state;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

double seconds_between(SteadyTime from, SteadyTime to) {
    return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

}  // namespace

RecoveryEngine::RecoveryEngine(const HealthProbe& health, EngineClock& clock) : health_(health), clock_(clock) {}

Decision RecoveryEngine::decide(const RecoveryPlan& plan, Backend& backend, const ProbedCallback& on_probed) const {
    Decision decision;
    decision.observation = plan.observation;
    if (const auto state = probe_unit(backend, plan.unit, on_probed)) {
        // Down by either account: systemd's now, or the monitor's (not
        // running, or running between the restarts of a crash loop).
        decision.observation.unit_active = state->active && plan.observation.unit_active;
        decision.observation.recent_package_change = state->recent_package_change;
        decision.control_group = state->control_group;
    }
    decision.kind = classify_failure(decision.observation);
    decision.probabilities = plan.policy->probabilities(decision.observation);
    const Applicability applicability = assess_actions(backend, RecoveryRequest{plan.unit, decision.kind, plan.reason, plan.ceilings, plan.raised});

    const ActionSet available = plan.allowed & applicability.actions;
    const ActionSet candidates = plan.action ? available : escalation_candidates(available, plan.tried);
    for (const Action action : kAllActions) {
        const auto i = static_cast<std::size_t>(action);
        std::string& why = decision.excluded[i];
        if (!plan.allowed.test(i)) {
            why = "not in AllowedActions=";
        } else if (!applicability.actions.test(i)) {
            why = applicability.reasons[i];
        } else if (!candidates.test(i)) {
            why = action == Action::scale_up && plan.tried.test(i) ? "raised once in this incident already"
                                                                   : "tried in this incident already";
        } else if (!plan.action && !(decision.probabilities[i] > 0.0f)) {
            why = fmt::format("the {} policy never chooses it", plan.policy->name());
        }
    }

    if (plan.action) {
        const auto i = static_cast<std::size_t>(*plan.action);
        if (decision.excluded[i].empty()) {
            decision.action = plan.action;
        } else {
            decision.why_none = fmt::format("{} cannot act: {}", to_string(*plan.action), decision.excluded[i]);
        }
        return decision;
    }
    decision.action = choose_among(*plan.policy, decision.observation, candidates);
    if (plan.shadow) decision.shadow_action = choose_among(*plan.shadow, decision.observation, candidates);
    if (!decision.action) {
        std::string reasons;
        for (const Action action : kAllActions)
            reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", to_string(action),
                                   decision.excluded[static_cast<std::size_t>(action)]);
        decision.why_none = "nothing left to try (" + reasons + ")";
    }
    return decision;
}

RecoveryOutcome RecoveryEngine::run(const RecoveryPlan& plan, Backend& backend, const std::atomic<bool>& cancel,
                                    const DecidedCallback& on_decided, const ProbedCallback& on_probed) const {
    RecoveryOutcome outcome;
    const Decision decision = decide(plan, backend, on_probed);
    outcome.control_group = decision.control_group;
    outcome.shadow_action = decision.shadow_action;
    if (!decision.action) {
        outcome.not_run = true;
        outcome.detail = decision.why_none;
        return outcome;
    }
    const Action action = *decision.action;
    const FailureKind kind = decision.kind;
    const Observation& observation = decision.observation;

    ActionRecord& record = outcome.record;
    record.timestamp = clock_.wall_now();
    record.action = action;
    record.unit = plan.unit;
    record.failure_kind = kind;
    const ObservationVector encoded = encode(observation);
    record.state.assign(encoded.begin(), encoded.end());
    record.simulated = backend.simulated();
    if (on_decided && !on_decided(record)) {
        outcome.cancelled = true;
        outcome.detail = "abandoned before it ran";
        return outcome;
    }

    const SteadyTime started = clock_.now();
    ExecutionResult result;
    try {
        result = backend.executor(action).execute(RecoveryRequest{plan.unit, kind, plan.reason, plan.ceilings, plan.raised});
    } catch (const std::exception& e) {
        result = ExecutionResult{false, e.what()};
    }
    outcome.detail = result.detail;
    outcome.limit_changes = result.limit_changes;
    if (result.ok && !plan.unit.empty()) probe_unit(backend, plan.unit, on_probed);

    // Validation: only a judgement made after the action finished counts.
    const SteadyTime acted = clock_.now();
    const SteadyTime deadline = acted + plan.timeout;
    while (result.ok) {
        if (cancel.load()) {
            outcome.cancelled = true;
            break;
        }
        const auto report = health_.latest(plan.unit);
        if (report && report->observed >= acted && report->healthy) {
            const auto state = plan.unit.empty() ? std::optional<UnitState>(UnitState{}) : probe_unit(backend, plan.unit, on_probed);
            if (state && state->active) {
                record.recovered = true;
                record.recovery_time = seconds_between(started, report->observed);
                outcome.healed_at = report->observed;
                if (state->control_group) outcome.control_group = state->control_group;
                break;
            }
        }
        const SteadyTime now = clock_.now();
        if (now >= deadline) break;
        clock_.sleep_for(std::min(kPollInterval, std::chrono::ceil<std::chrono::milliseconds>(deadline - now)));
    }
    record.reward = recovery_reward(record.recovered, record.recovery_time.value_or(0.0));
    return outcome;
}

}  // namespace heal
