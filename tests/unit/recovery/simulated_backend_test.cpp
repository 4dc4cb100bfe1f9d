#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "recovery/backend.hpp"
#include "recovery/fault_overlay.hpp"
#include "recovery/simulated_sampler.hpp"

using namespace heal;

namespace {

std::vector<TargetReading> quiet() {
    return {TargetReading{"", true, 10.0, 30.0}, TargetReading{"web.service", true, 2.0, 15.0}};
}

}  // namespace

TEST_CASE("fault modes have names", "[simulated]") {
    for (int i = 0; i < kFaultModeCount; ++i) {
        const auto mode = static_cast<FaultMode>(i);
        CHECK(parse_fault_mode(to_string(mode)) == mode);
    }
    CHECK(to_string(FaultMode::memory_leak) == "memory_leak");
    CHECK_FALSE(parse_fault_mode("synthetic"));
    CHECK_FALSE(parse_fault_mode(""));
}

TEST_CASE("a synthetic fault pushes high values until healed or faded", "[simulated]") {
    FaultOverlay overlay(7);
    overlay.inject_synthetic("");
    auto readings = quiet();
    overlay.apply(readings);
    CHECK(readings[0].cpu >= 95.0);
    CHECK(readings[0].cpu <= 99.0);
    CHECK(*readings[0].memory >= 92.0);
    CHECK(readings[1] == quiet()[1]);  // other targets untouched

    for (int i = 1; i < FaultOverlay::kSyntheticSamples; ++i) {
        auto more = quiet();
        overlay.apply(more);
        CHECK(more[0].cpu >= 95.0);
    }
    CHECK_FALSE(overlay.fault(""));
    auto after = quiet();
    overlay.apply(after);
    CHECK(after == quiet());

    overlay.inject_synthetic("web.service");
    CHECK(overlay.heal("web.service"));
    CHECK_FALSE(overlay.heal("web.service"));
}

TEST_CASE("unit faults shape their unit's readings until healed", "[simulated]") {
    FaultOverlay overlay(7);
    overlay.inject(FaultMode::cpu_runaway, "web.service");
    for (int i = 0; i < 200; ++i) {
        auto readings = quiet();
        overlay.apply(readings);
        CHECK(readings[1].cpu >= 97.0);
        CHECK(readings[1].memory == 15.0);
    }
    overlay.inject(FaultMode::memory_leak, "web.service");  // replaces the runaway
    auto leak = quiet();
    overlay.apply(leak);
    CHECK(leak[1].cpu == 2.0);
    CHECK(*leak[1].memory >= 94.0);

    for (const FaultMode down : {FaultMode::crash, FaultMode::hang}) {
        overlay.inject(down, "web.service");
        auto readings = quiet();
        overlay.apply(readings);
        CHECK_FALSE(readings[1].present);
        CHECK_FALSE(readings[1].memory);
    }
    REQUIRE(overlay.fault("web.service"));
    CHECK(overlay.fault("web.service")->mode == FaultMode::hang);
}

TEST_CASE("simulated recoveries heal with the original design's odds", "[simulated]") {
    const auto overlay = std::make_shared<FaultOverlay>(1);
    const auto backend = make_simulated_backend(overlay, 42, 0.0);
    CHECK(backend->name == "simulated");
    CHECK(backend->simulated());
    const std::pair<Action, double> odds[] = {
        {Action::restart, 0.7}, {Action::scale_up, 0.6}, {Action::rollback, 0.5}, {Action::do_nothing, 0.2}};
    constexpr int kTrials = 2000;
    for (const auto& [action, probability] : odds) {
        Executor& executor = backend->executor(action);
        CHECK(executor.action() == action);
        int healed = 0;
        for (int i = 0; i < kTrials; ++i) {
            overlay->inject(FaultMode::cpu_runaway, "web.service");
            const ExecutionResult result = executor.execute(RecoveryRequest{"web.service", FailureKind::cpu_runaway, ""});
            CHECK(result.ok);
            if (!overlay->fault("web.service")) {
                ++healed;
                CHECK_THAT(result.detail, Catch::EndsWith("fault healed"));
            } else {
                CHECK_THAT(result.detail, Catch::EndsWith("fault persists"));
            }
        }
        INFO(to_string(action));
        CHECK(static_cast<double>(healed) / kTrials == Approx(probability).margin(0.04));
    }
    overlay->heal("web.service");
    const ExecutionResult idle = backend->executor(Action::restart).execute(RecoveryRequest{"", FailureKind::transient, ""});
    CHECK(idle.ok);
    CHECK(idle.detail == "simulated restart of the machine: no injected fault to heal");
}

namespace {

// Whether each of `trials` recoveries with `action` healed a fresh fault.
std::vector<bool> heal_outcomes(std::uint64_t seed, const HealChances& chances, Action action, int trials) {
    const auto overlay = std::make_shared<FaultOverlay>(1);
    const auto backend = make_simulated_backend(overlay, seed, 0.0, chances);
    std::vector<bool> healed;
    for (int i = 0; i < trials; ++i) {
        overlay->inject(FaultMode::cpu_runaway, "web.service");
        backend->executor(action).execute(RecoveryRequest{"web.service", FailureKind::cpu_runaway, ""});
        healed.push_back(!overlay->fault("web.service"));
    }
    return healed;
}

}  // namespace

TEST_CASE("simulated heal chances of 1 and 0 are certain, and a seed repeats the dice", "[simulated]") {
    const HealChances chances{1.0, 0.0, 0.5, 0.5};
    CHECK(heal_outcomes(7, chances, Action::restart, 200) == std::vector<bool>(200, true));
    CHECK(heal_outcomes(7, chances, Action::scale_up, 200) == std::vector<bool>(200, false));
    const std::vector<bool> first = heal_outcomes(7, chances, Action::rollback, 64);
    CHECK(heal_outcomes(7, chances, Action::rollback, 64) == first);
    CHECK(heal_outcomes(8, chances, Action::rollback, 64) != first);
    CHECK(std::count(first.begin(), first.end(), true) > 0);
    CHECK(std::count(first.begin(), first.end(), false) > 0);
}

TEST_CASE("the simulated injector and probe act on the overlay", "[simulated]") {
    const auto overlay = std::make_shared<FaultOverlay>(1);
    const auto backend = make_simulated_backend(overlay, 1, 0.0);
    CHECK(backend->probe->probe("web.service").active);
    const InjectionResult injected = backend->injector->inject(FaultMode::crash, "web.service");
    CHECK(injected.ok);
    CHECK(injected.detail == "simulated crash injected into web.service");
    const UnitState state = backend->probe->probe("web.service");
    CHECK_FALSE(state.active);
    CHECK_FALSE(state.recent_package_change);
    CHECK_FALSE(state.control_group);
    backend->injector->inject(FaultMode::memory_leak, "web.service");
    CHECK(backend->probe->probe("web.service").active);  // leaking, but running
    CHECK(backend->probe->probe("").active);
}

TEST_CASE("the simulated system is quiet", "[simulated]") {
    SimulatedSampler sampler({"a.service"}, 3);
    for (int i = 0; i < 100; ++i) {
        const Sample sample = sampler.sample();
        CHECK(sample.system.cpu_percent >= 5.0);
        CHECK(sample.system.cpu_percent <= 15.0);
        CHECK(sample.system.memory_percent >= 30.0);
        CHECK(sample.system.memory_percent <= 40.0);
        REQUIRE(sample.units.size() == 1);
        const UnitSample& unit = sample.units[0];
        CHECK(unit.unit == "a.service");
        CHECK(unit.present);
        CHECK(unit.cpu_percent <= 5.0);
        CHECK(unit.memory_max_bytes == SimulatedSampler::kUnitMemoryMaxBytes);
        CHECK(unit.memory_bytes < SimulatedSampler::kUnitMemoryMaxBytes / 5);
    }
    sampler.watch({"b.service", "c.service"});
    const Sample sample = sampler.sample();
    REQUIRE(sample.units.size() == 2);
    CHECK(sample.units[1].unit == "c.service");
}
