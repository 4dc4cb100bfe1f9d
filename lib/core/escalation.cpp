#include "core/escalation.hpp"

namespace heal {

ActionSet escalation_candidates(ActionSet available, ActionSet tried) {
    const auto bit = [](Action action) { return static_cast<std::size_t>(action); };
    if (tried.test(bit(Action::scale_up))) available.reset(bit(Action::scale_up));
    ActionSet untried_acting = available & ~tried;
    untried_acting.reset(bit(Action::do_nothing));
    if (untried_acting.any()) return available & ~tried;
    return available;
}

}  // namespace heal
