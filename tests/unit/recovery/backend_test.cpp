#include <catch2/catch.hpp>

#include <stdexcept>

#include "recovery/backend.hpp"
#include "recovery/fault_overlay.hpp"

using namespace heal;

namespace {
class Refusing final : public Executor {
public:
    Refusing(Action action, std::optional<std::string> why_not, bool throws = false)
        : action_(action), why_not_(std::move(why_not)), throws_(throws) {}
    Action action() const override { return action_; }
    std::optional<std::string> unavailable(const RecoveryRequest& request) override {
        asked.push_back(request.unit);
        if (throws_) throw std::runtime_error("systemd went away");
        return why_not_;
    }
    ExecutionResult execute(const RecoveryRequest&) override { return {true, "ran"}; }
    std::vector<std::string> asked;

private:
    Action action_;
    std::optional<std::string> why_not_;
    bool throws_;
};
}  // namespace

TEST_CASE("each executor judges whether it can act, and says why not", "[backend]") {
    Backend backend;
    backend.name = "systemd";
    backend.executors[0] = std::make_unique<Refusing>(Action::restart, std::nullopt);
    backend.executors[1] = std::make_unique<Refusing>(Action::scale_up, "MemoryMax not set, CPUQuota not set");
    backend.executors[2] = std::make_unique<Refusing>(Action::rollback, std::nullopt, true);
    backend.executors[3] = std::make_unique<Refusing>(Action::do_nothing, std::nullopt);
    const Applicability result = assess_actions(backend, RecoveryRequest{"web.service", FailureKind::crash, ""});
    CHECK(contains(result.actions, Action::restart));
    CHECK(contains(result.actions, Action::do_nothing));
    CHECK_FALSE(contains(result.actions, Action::scale_up));
    CHECK(result.reasons[1] == "MemoryMax not set, CPUQuota not set");
    // An executor that cannot even tell is not offered.
    CHECK_FALSE(contains(result.actions, Action::rollback));
    CHECK(result.reasons[2] == "systemd went away");
    CHECK(result.reasons[0].empty());
    CHECK(static_cast<Refusing&>(backend.executor(Action::restart)).asked == std::vector<std::string>{"web.service"});
}

TEST_CASE("the simulated backend heals synthetic machine faults with every action", "[backend]") {
    const auto simulated = make_simulated_backend(std::make_shared<FaultOverlay>(1), 1);
    CHECK(assess_actions(*simulated, RecoveryRequest{"", FailureKind::transient, ""}).actions == all_actions());
    CHECK(assess_actions(*simulated, RecoveryRequest{"demo.service", FailureKind::crash, ""}).actions == all_actions());
}
