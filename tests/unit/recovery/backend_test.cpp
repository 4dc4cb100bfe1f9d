#include <catch2/catch.hpp>

#include "recovery/backend.hpp"
#include "recovery/fault_overlay.hpp"

using namespace heal;

TEST_CASE("a real backend only observes the whole machine; units get every action", "[backend]") {
    Backend real;
    real.name = "systemd";
    const ActionSet machine = applicable_actions(real, "");
    CHECK(machine.count() == 1);
    CHECK(contains(machine, Action::do_nothing));
    CHECK(applicable_actions(real, "nginx.service") == all_actions());
}

TEST_CASE("the simulated backend heals synthetic machine faults with every action", "[backend]") {
    const auto simulated = make_simulated_backend(std::make_shared<FaultOverlay>(1), 1);
    CHECK(applicable_actions(*simulated, "") == all_actions());
    CHECK(applicable_actions(*simulated, "demo.service") == all_actions());
}
