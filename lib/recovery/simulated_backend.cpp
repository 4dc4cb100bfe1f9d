// The simulated backend: recoveries heal injected faults with the odds of
// [Simulation] HealChance= (by default the original design's), so the whole
// loop runs without systemd or root.
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "core/target.hpp"
#include "recovery/backend.hpp"
#include "recovery/fault_overlay.hpp"

namespace heal {
namespace {

// How long each action pretends to take, so recovery times differ between
// actions the way real ones do.
std::chrono::milliseconds duration_of(Action action) {
    using std::chrono::milliseconds;
    switch (action) {
        case Action::restart: return milliseconds(300);
        case Action::scale_up: return milliseconds(100);
        case Action::rollback: return milliseconds(600);
        case Action::do_nothing: return milliseconds(0);
    }
    return milliseconds(0);
}

class Dice {
public:
    explicit Dice(std::uint64_t seed) : rng_(seed) {}
    bool roll(double probability) {
        std::lock_guard lock(mutex_);
        return std::bernoulli_distribution(probability)(rng_);
    }

private:
    std::mutex mutex_;
    std::mt19937_64 rng_;
};

class SimulatedExecutor final : public Executor {
public:
    SimulatedExecutor(Action action, double heal_chance, std::shared_ptr<FaultOverlay> overlay,
                      std::shared_ptr<Dice> dice, double time_scale)
        : action_(action),
          heal_chance_(heal_chance),
          overlay_(std::move(overlay)),
          dice_(std::move(dice)),
          time_scale_(time_scale) {}

    Action action() const override { return action_; }
    // Every action acts everywhere, the machine included, as in the original design.
    std::optional<std::string> unavailable(const RecoveryRequest&) override { return std::nullopt; }

    ExecutionResult execute(const RecoveryRequest& request) override {
        std::this_thread::sleep_for(duration_of(action_) * time_scale_);
        const std::string what = fmt::format("simulated {} of {}", to_string(action_), target_name(request.unit));
        if (!overlay_->fault(request.unit)) return {true, what + ": no injected fault to heal"};
        if (dice_->roll(heal_chance_) && overlay_->heal(request.unit))
            return {true, what + ": fault healed"};
        return {true, what + ": fault persists"};
    }

private:
    Action action_;
    double heal_chance_;
    std::shared_ptr<FaultOverlay> overlay_;
    std::shared_ptr<Dice> dice_;
    double time_scale_;
};

class SimulatedInjector final : public FailureInjector {
public:
    explicit SimulatedInjector(std::shared_ptr<FaultOverlay> overlay) : overlay_(std::move(overlay)) {}

    InjectionResult inject(FaultMode mode, const std::string& unit) override {
        overlay_->inject(mode, unit);
        return {true, fmt::format("simulated {} injected into {}", to_string(mode), target_name(unit))};
    }

private:
    std::shared_ptr<FaultOverlay> overlay_;
};

class SimulatedProbe final : public UnitProbe {
public:
    explicit SimulatedProbe(std::shared_ptr<FaultOverlay> overlay) : overlay_(std::move(overlay)) {}

    UnitState probe(const std::string& unit) override {
        const auto fault = overlay_->fault(unit);
        const bool down = fault && fault->mode && (*fault->mode == FaultMode::crash || *fault->mode == FaultMode::hang);
        UnitState state;
        state.active = !down;
        return state;
    }

    // Simulated units have no settings to change.
    std::uint64_t settings_stamp(const std::string&) override { return 0; }

private:
    std::shared_ptr<FaultOverlay> overlay_;
};

// Simulated scale_up raises no real limit (it reports no limit_changes), so
// there is never anything of its own to put back.
class SimulatedRestorer final : public LimitRestorer {
public:
    ExecutionResult restore(const std::string& unit, const std::vector<LimitChange>&) override {
        return {true, fmt::format("nothing to restore on {}: simulated limits are not raised", target_name(unit))};
    }
};

// Simulated units have no operator's unit to start: the alert is only told.
class SimulatedAlerter final : public Alerter {
public:
    ExecutionResult send(const Alert& alert) override {
        return {true, fmt::format("simulated: {} not started", alert.unit)};
    }
};

}  // namespace

std::unique_ptr<Backend> make_simulated_backend(std::shared_ptr<FaultOverlay> overlay, std::uint64_t seed,
                                                double time_scale, const HealChances& heal_chances) {
    auto backend = std::make_unique<Backend>();
    backend->name = "simulated";
    auto dice = std::make_shared<Dice>(seed);
    for (const Action action : kAllActions)
        backend->executors.at(static_cast<std::size_t>(action)) =
            std::make_unique<SimulatedExecutor>(action, heal_chances.at(static_cast<std::size_t>(action)), overlay,
                                                dice, time_scale);
    backend->injector = std::make_unique<SimulatedInjector>(overlay);
    backend->probe = std::make_unique<SimulatedProbe>(overlay);
    backend->restorer = std::make_unique<SimulatedRestorer>();
    backend->alerter = std::make_unique<SimulatedAlerter>();
    return backend;
}

}  // namespace heal
