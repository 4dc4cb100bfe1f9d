#pragma once
// A set of recovery actions, e.g. those the configuration allows.
#include <bitset>
#include <cstddef>

#include "core/action.hpp"

namespace heal {

using ActionSet = std::bitset<kActionCount>;  // indexed by Action

inline bool contains(const ActionSet& set, Action action) { return set.test(static_cast<std::size_t>(action)); }

inline constexpr ActionSet all_actions() { return ActionSet((1u << kActionCount) - 1); }

}  // namespace heal
