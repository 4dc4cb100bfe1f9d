#pragma once
// Which actions an open incident may try next. Shared by the daemon and the
// learning environment, so a policy is trained under the rule it acts under.
//
// Every earlier attempt of an open incident did not heal the target durably
// (else the incident would be closed), so:
// - scale_up is tried at most once per incident: raising a limit again only
//   buys a leak more time;
// - while some acting action (not do_nothing) is still untried, only untried
//   actions are offered: a failed action is not repeated blindly;
// - once every acting action has been tried, they may be repeated (with
//   backoff; the attempt budget ends the incident).
#include "core/action.hpp"
#include "core/action_set.hpp"

namespace heal {

ActionSet escalation_candidates(ActionSet available, ActionSet tried);

}  // namespace heal
