#include "recovery/engine.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

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

Action choose_allowed(const Policy& policy, const Observation& observation, const ActionSet& allowed) {
    if (allowed.none()) throw std::invalid_argument("no recovery action is allowed by the configuration");
    const ActionProbabilities probabilities = policy.probabilities(observation);
    std::optional<Action> best;
    for (const Action action : kAllActions) {
        if (!contains(allowed, action)) continue;
        if (!best || probabilities[static_cast<std::size_t>(action)] > probabilities[static_cast<std::size_t>(*best)])
            best = action;
    }
    return *best;
}

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

RecoveryOutcome RecoveryEngine::run(const RecoveryPlan& plan, Backend& backend, const std::atomic<bool>& cancel,
                                    const DecidedCallback& on_decided, const ProbedCallback& on_probed) const {
    RecoveryOutcome outcome;
    Observation observation = plan.observation;
    if (const auto state = probe_unit(backend, plan.unit, on_probed)) {
        observation.unit_active = state->active;
        observation.recent_package_change = state->recent_package_change;
        outcome.control_group = state->control_group;
    }
    const Action action = plan.action ? *plan.action : choose_allowed(*plan.policy, observation, plan.allowed);
    const FailureKind kind = classify_failure(observation);

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
        result = backend.executor(action).execute(RecoveryRequest{plan.unit, kind, plan.reason});
    } catch (const std::exception& e) {
        result = ExecutionResult{false, e.what()};
    }
    outcome.detail = result.detail;
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
