#include <catch2/catch.hpp>

#include <functional>
#include <stdexcept>

#include "recovery/engine.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

// Time stands still until the engine sleeps.
class FakeClock final : public EngineClock {
public:
    SteadyTime now() const override { return now_; }
    TimePoint wall_now() const override { return TimePoint(std::chrono::duration_cast<std::chrono::system_clock::duration>(now_.time_since_epoch())); }
    void sleep_for(std::chrono::milliseconds duration) override {
        now_ += duration;
        ++sleeps;
    }
    void advance(std::chrono::milliseconds duration) { now_ += duration; }

    int sleeps = 0;

private:
    SteadyTime now_{std::chrono::hours(1)};
};

// Answers from a function of the clock, like a monitor sampling in the background.
class FakeHealth final : public HealthProbe {
public:
    explicit FakeHealth(std::function<std::optional<HealthReport>()> answer) : answer_(std::move(answer)) {}
    std::optional<HealthReport> latest(const std::string&) const override { return answer_(); }

private:
    std::function<std::optional<HealthReport>()> answer_;
};

class FakeExecutor final : public Executor {
public:
    FakeExecutor(Action action, FakeClock& clock) : action_(action), clock_(clock) {}
    Action action() const override { return action_; }
    std::optional<std::string> unavailable(const RecoveryRequest&) override { return why_not; }
    ExecutionResult execute(const RecoveryRequest& request) override {
        requests.push_back(request);
        clock_.advance(takes);
        if (throws) throw std::runtime_error("systemd went away");
        return result;
    }

    std::vector<RecoveryRequest> requests;
    ExecutionResult result{true, "done"};
    std::chrono::milliseconds takes{200};
    bool throws = false;
    std::optional<std::string> why_not;

private:
    Action action_;
    FakeClock& clock_;
};

class FakeProbe final : public UnitProbe {
public:
    UnitState probe(const std::string&) override {
        ++calls;
        if (throws) throw std::runtime_error("no bus");
        return state;
    }
    std::uint64_t settings_stamp(const std::string&) override { return 0; }
    UnitState state;
    bool throws = false;
    int calls = 0;
};

struct Fixture {
    FakeClock clock;
    Backend backend;
    std::array<FakeExecutor*, kActionCount> executors{};
    FakeProbe* probe = nullptr;
    std::atomic<bool> cancel{false};

    Fixture() {
        backend.name = "fake";
        for (const Action action : kAllActions) {
            auto executor = std::make_unique<FakeExecutor>(action, clock);
            executors[static_cast<std::size_t>(action)] = executor.get();
            backend.executors[static_cast<std::size_t>(action)] = std::move(executor);
        }
        auto fake_probe = std::make_unique<FakeProbe>();
        probe = fake_probe.get();
        backend.probe = std::move(fake_probe);
    }
    FakeExecutor& executor(Action action) { return *executors[static_cast<std::size_t>(action)]; }

    // Healthy from `at` on (relative to now), as sampled every 100 ms.
    FakeHealth healthy_from(std::chrono::milliseconds at) {
        const SteadyTime start = clock.now();
        return FakeHealth([this, start, at]() -> std::optional<HealthReport> {
            const SteadyTime sampled = start + (clock.now() - start) / 100ms * 100ms;
            return HealthReport{sampled, clock.now() - start >= at};
        });
    }

    RecoveryPlan plan(std::string unit = "web.service") const {
        RecoveryPlan p;
        p.unit = std::move(unit);
        p.policy = std::make_shared<HeuristicPolicy>();
        p.observation.cpu_percent = 97.0;
        p.observation.cpu_anomalous = true;
        p.reason = "cpu 97% > 50%";
        return p;
    }
};

// A policy with fixed preferences, to see allow-list handling.
class FixedPolicy final : public Policy {
public:
    explicit FixedPolicy(ActionProbabilities p) : p_(p) {}
    std::string_view name() const override { return "fixed"; }
    ActionProbabilities probabilities(const Observation&) const override { return p_; }

private:
    ActionProbabilities p_;
};

}  // namespace

TEST_CASE("a recovery validated healthy earns the original design's reward", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(1000ms);
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);

    // CPU anomalous, unit running: the heuristic restarts.
    REQUIRE(f.executor(Action::restart).requests.size() == 1);
    const RecoveryRequest& request = f.executor(Action::restart).requests.front();
    CHECK(request.unit == "web.service");
    CHECK(request.kind == FailureKind::cpu_runaway);
    CHECK(request.reason == "cpu 97% > 50%");

    const ActionRecord& record = outcome.record;
    CHECK(record.action == Action::restart);
    CHECK(record.recovered);
    REQUIRE(record.recovery_time);
    // Healthy from 1 s on; the polls (0.2 s after the 0.2 s action, then every
    // 0.5 s) see it first at 1.2 s.
    CHECK(*record.recovery_time == Approx(1.2));
    CHECK(record.reward == Approx(recovery_reward(true, 1.2)));
    CHECK(record.unit == "web.service");
    CHECK(record.failure_kind == FailureKind::cpu_runaway);
    CHECK(record.state.size() == static_cast<std::size_t>(kObservationSize));
    CHECK(record.state[0] == Approx(0.97f));
    CHECK_FALSE(record.simulated);
    CHECK(outcome.detail == "done");
    CHECK_FALSE(outcome.cancelled);
}

TEST_CASE("validation gives up after the timeout, polling every 0.5 s", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(1h);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.timeout = 5s;
    const SteadyTime start = f.clock.now();
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel);

    CHECK_FALSE(outcome.record.recovered);
    CHECK_FALSE(outcome.record.recovery_time);
    CHECK(outcome.record.reward == -10.0);
    CHECK(f.clock.sleeps == 10);
    CHECK(f.clock.now() - start == 200ms + 5s);  // the action's own time, then the timeout
}

TEST_CASE("a healthy judgement from before the action does not count", "[engine]") {
    Fixture f;
    const SteadyTime stale = f.clock.now();
    const FakeHealth health([&]() -> std::optional<HealthReport> { return HealthReport{stale, true}; });
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK_FALSE(outcome.record.recovered);
}

TEST_CASE("a healthy reading of a unit systemd reports inactive is not a recovery", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    f.probe->state.active = false;
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK_FALSE(outcome.record.recovered);
    // The probe's view fed the decision too: a dead unit is a crash.
    CHECK(outcome.record.failure_kind == FailureKind::crash);
    CHECK(outcome.record.state[5] == 1.0f);
}

TEST_CASE("the probe's package change makes a dead unit a bad deploy, rolled back", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    f.probe->state = UnitState{false, true, std::string("/system.slice/web.service"), std::nullopt};
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK(outcome.record.action == Action::rollback);
    CHECK(outcome.record.failure_kind == FailureKind::bad_deploy);
    CHECK(outcome.control_group == "/system.slice/web.service");
}

TEST_CASE("a failing probe leaves the monitor's view and blocks validation of a unit", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    f.probe->throws = true;
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK(outcome.record.action == Action::restart);
    CHECK_FALSE(outcome.record.recovered);
}

TEST_CASE("the machine needs no probe to validate", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(500ms);
    f.probe->state.active = false;  // must not matter for ""
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan("");
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel);
    CHECK(outcome.record.recovered);
}

TEST_CASE("an action that fails is a failed recovery at once", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    f.executor(Action::restart).result = ExecutionResult{false, "job failed"};
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK_FALSE(outcome.record.recovered);
    CHECK(outcome.record.reward == -10.0);
    CHECK(outcome.detail == "job failed");
    CHECK(f.clock.sleeps == 0);
}

TEST_CASE("an executor that throws is a failed recovery with its message", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    f.executor(Action::restart).throws = true;
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK_FALSE(outcome.record.recovered);
    CHECK(outcome.detail == "systemd went away");
}

TEST_CASE("a requested action is run whatever the policy prefers", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.action = Action::do_nothing;
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel);
    CHECK(outcome.record.action == Action::do_nothing);
    CHECK(f.executor(Action::do_nothing).requests.size() == 1);
    CHECK(f.executor(Action::restart).requests.empty());
}

TEST_CASE("the policy chooses among the allowed actions only", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.policy = std::make_shared<FixedPolicy>(ActionProbabilities{0.5f, 0.1f, 0.3f, 0.1f});
    plan.allowed = all_actions();
    plan.allowed.reset(static_cast<std::size_t>(Action::restart));
    const Decision decision = engine.decide(plan, f.backend);
    CHECK(decision.action == Action::rollback);
    CHECK(decision.excluded[0] == "not in AllowedActions=");
    CHECK(decision.excluded[2].empty());
    CHECK(engine.run(plan, f.backend, f.cancel).record.action == Action::rollback);
}

TEST_CASE("an action its executor cannot run is never offered, and why is kept", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    f.probe->state = UnitState{false, true, std::nullopt, std::nullopt};  // a bad deploy: the heuristic rolls back
    f.executor(Action::rollback).why_not = "no rollback hook for web.service";
    RecoveryPlan plan = f.plan();
    plan.policy = std::make_shared<FixedPolicy>(ActionProbabilities{0.2f, 0.1f, 0.6f, 0.1f});
    const Decision decision = engine.decide(plan, f.backend);
    CHECK(decision.action == Action::restart);
    CHECK(decision.excluded[2] == "no rollback hook for web.service");
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel);
    CHECK(f.executor(Action::rollback).requests.empty());
    CHECK(outcome.record.action == Action::restart);

    // Asked for by name, it is refused with the executor's reason and nothing runs.
    plan.action = Action::rollback;
    const RecoveryOutcome refused = engine.run(plan, f.backend, f.cancel);
    CHECK(refused.not_run);
    CHECK(refused.detail == "rollback cannot act: no rollback hook for web.service");
    CHECK(f.executor(Action::rollback).requests.empty());
}

TEST_CASE("an incident's tried actions are not repeated while others remain", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.policy = std::make_shared<LadderPolicy>();
    plan.tried.set(static_cast<std::size_t>(Action::restart));
    const Decision decision = engine.decide(plan, f.backend);
    CHECK(decision.action == Action::scale_up);
    CHECK(decision.excluded[0] == "tried in this incident already");
    plan.tried.set(static_cast<std::size_t>(Action::scale_up)).set(static_cast<std::size_t>(Action::rollback));
    const Decision again = engine.decide(plan, f.backend);
    CHECK(again.action == Action::restart);  // every rung tried: the ladder starts over, without scale_up
    CHECK(again.excluded[1] == "raised once in this incident already");
}

TEST_CASE("with nothing left to try, nothing runs and every reason is given", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.policy = std::make_shared<LadderPolicy>();
    f.executor(Action::restart).why_not = "systemd cannot start web.service (LoadState=masked)";
    f.executor(Action::scale_up).why_not = "MemoryMax not set";
    f.executor(Action::rollback).why_not = "no rollback hook";
    bool announced = false;
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel, [&](ActionRecord&) { return announced = true; });
    CHECK(outcome.not_run);
    CHECK_FALSE(announced);
    CHECK(outcome.detail ==
          "nothing left to try (restart: systemd cannot start web.service (LoadState=masked); scale_up: MemoryMax "
          "not set; rollback: no rollback hook; do_nothing: the ladder policy never chooses it)");
    for (const Action action : kAllActions) CHECK(f.executor(action).requests.empty());
}

TEST_CASE("a shadow policy is asked among the same candidates but never acts", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    RecoveryPlan plan = f.plan();
    plan.policy = std::make_shared<LadderPolicy>();
    plan.shadow = std::make_shared<FixedPolicy>(ActionProbabilities{0.1f, 0.1f, 0.7f, 0.1f});
    const RecoveryOutcome outcome = engine.run(plan, f.backend, f.cancel);
    CHECK(outcome.record.action == Action::restart);
    CHECK(outcome.shadow_action == Action::rollback);
    CHECK(f.executor(Action::rollback).requests.empty());
}

TEST_CASE("validation reports when it saw the target healthy", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(1000ms);
    const RecoveryEngine engine(health, f.clock);
    const SteadyTime start = f.clock.now();
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    REQUIRE(outcome.healed_at);
    CHECK(*outcome.healed_at - start == 1200ms);
}

TEST_CASE("the decision is announced before the action runs, and its id kept", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    std::optional<std::pair<Action, FailureKind>> announced;
    std::size_t requests_when_announced = 99;
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel, [&](ActionRecord& record) {
        announced = {record.action, record.failure_kind.value()};
        requests_when_announced = f.executor(Action::restart).requests.size();
        record.id = 42;  // stored ahead, as the daemon does
        return true;
    });
    REQUIRE(announced);
    CHECK(announced->first == Action::restart);
    CHECK(announced->second == FailureKind::cpu_runaway);
    CHECK(requests_when_announced == 0);
    CHECK(outcome.record.id == 42);
    CHECK(outcome.record.recovered);
}

TEST_CASE("a recovery abandoned when announced runs nothing", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(0ms);
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome =
        engine.run(f.plan(), f.backend, f.cancel, [](ActionRecord&) { return false; });
    CHECK(outcome.cancelled);
    CHECK(f.executor(Action::restart).requests.empty());
}

TEST_CASE("cancelling stops validation and marks the outcome", "[engine]") {
    Fixture f;
    const FakeHealth health = f.healthy_from(1h);
    const RecoveryEngine engine(health, f.clock);
    f.cancel = true;
    const RecoveryOutcome outcome = engine.run(f.plan(), f.backend, f.cancel);
    CHECK(outcome.cancelled);
    CHECK(f.clock.sleeps == 0);
}

TEST_CASE("failure kinds follow from the observation", "[engine]") {
    Observation obs;
    CHECK(classify_failure(obs) == FailureKind::transient);
    obs.cpu_anomalous = true;
    CHECK(classify_failure(obs) == FailureKind::cpu_runaway);
    obs.memory_anomalous = true;
    CHECK(classify_failure(obs) == FailureKind::memory_leak);
    obs.unit_active = false;
    CHECK(classify_failure(obs) == FailureKind::crash);
    obs.recent_package_change = true;
    CHECK(classify_failure(obs) == FailureKind::bad_deploy);
}

TEST_CASE("the health board keeps the latest report per target", "[engine]") {
    HealthBoard board;
    CHECK_FALSE(board.latest(""));
    const SteadyTime t0{std::chrono::seconds(5)};
    board.publish("", HealthReport{t0, false});
    board.publish("a.service", HealthReport{t0, true});
    board.publish("", HealthReport{t0 + 1s, true});
    REQUIRE(board.latest(""));
    CHECK(board.latest("")->observed == t0 + 1s);
    CHECK(board.latest("")->healthy);
    CHECK(board.latest("a.service")->healthy);
    CHECK_FALSE(board.latest("b.service"));
}

TEST_CASE("the unit is probed again right after the action, before validation judges it", "[engine]") {
    Fixture f;
    f.probe->state.memory_max = 128u << 20;
    // scale_up raises MemoryMax; the unit only looks healthy against the new limit.
    struct RaisingExecutor final : Executor {
        explicit RaisingExecutor(FakeProbe& probe) : probe_(probe) {}
        Action action() const override { return Action::scale_up; }
        std::optional<std::string> unavailable(const RecoveryRequest&) override { return std::nullopt; }
        ExecutionResult execute(const RecoveryRequest&) override {
            probe_.state.memory_max = 192u << 20;
            return {true, "MemoryMax 128M -> 192M"};
        }
        FakeProbe& probe_;
    };
    f.backend.executors[static_cast<std::size_t>(Action::scale_up)] = std::make_unique<RaisingExecutor>(*f.probe);
    std::vector<std::optional<std::uint64_t>> seen;
    std::optional<std::uint64_t> limit_at_first_judgement;
    const FakeHealth health([&]() -> std::optional<HealthReport> {
        if (!limit_at_first_judgement && !seen.empty()) limit_at_first_judgement = seen.back();
        return HealthReport{f.clock.now(), true};
    });
    RecoveryPlan plan = f.plan();
    plan.action = Action::scale_up;
    const RecoveryEngine engine(health, f.clock);
    const RecoveryOutcome outcome =
        engine.run(plan, f.backend, f.cancel, {}, [&](const UnitState& state) { seen.push_back(state.memory_max); });
    CHECK(outcome.record.recovered);
    REQUIRE(seen.size() >= 2);
    CHECK(seen.front() == (128u << 20));
    CHECK(limit_at_first_judgement == (192u << 20));
}
