#include "core/escalation.hpp"

#include <catch2/catch.hpp>

using namespace heal;

namespace {
ActionSet set_of(std::initializer_list<Action> actions) {
    ActionSet set;
    for (const Action action : actions) set.set(static_cast<std::size_t>(action));
    return set;
}
}  // namespace

TEST_CASE("an incident's first attempt may use every available action", "[core][escalation]") {
    CHECK(escalation_candidates(all_actions(), ActionSet()) == all_actions());
    const ActionSet restart_only = set_of({Action::restart, Action::do_nothing});
    CHECK(escalation_candidates(restart_only, ActionSet()) == restart_only);
}

TEST_CASE("a tried action is not repeated while an untried acting one remains", "[core][escalation]") {
    CHECK(escalation_candidates(all_actions(), set_of({Action::restart})) ==
          set_of({Action::scale_up, Action::rollback, Action::do_nothing}));
    CHECK(escalation_candidates(all_actions(), set_of({Action::restart, Action::rollback})) ==
          set_of({Action::scale_up, Action::do_nothing}));
}

TEST_CASE("scale_up is tried at most once per incident", "[core][escalation]") {
    const ActionSet after_all = set_of({Action::restart, Action::scale_up, Action::rollback});
    // Every acting action tried: they may repeat, but never scale_up.
    CHECK(escalation_candidates(all_actions(), after_all) ==
          set_of({Action::restart, Action::rollback, Action::do_nothing}));
    CHECK(escalation_candidates(set_of({Action::scale_up}), set_of({Action::scale_up})).none());
}

TEST_CASE("once every acting action was tried, they repeat, and do_nothing alone untried does not block that",
          "[core][escalation]") {
    const ActionSet restart_only = set_of({Action::restart, Action::do_nothing});
    CHECK(escalation_candidates(restart_only, set_of({Action::restart})) == restart_only);
    CHECK(escalation_candidates(set_of({Action::restart}), set_of({Action::restart})) == set_of({Action::restart}));
    CHECK(escalation_candidates(ActionSet(), ActionSet()).none());
}
