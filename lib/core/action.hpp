#pragma once
// The recovery vocabulary shared by the policy, the executors and storage.
#include <array>
#include <optional>
#include <string_view>

namespace heal {

// Order is the policy's output index; do not reorder (stored models depend on it).
enum class Action { restart = 0, scale_up = 1, rollback = 2, do_nothing = 3 };
inline constexpr int kActionCount = 4;
inline constexpr std::array<Action, kActionCount> kAllActions{
    Action::restart, Action::scale_up, Action::rollback, Action::do_nothing};

std::string_view to_string(Action action);
std::optional<Action> parse_action(std::string_view name);

// What went wrong, as far as the daemon can tell. Used to calibrate the
// learning environment from stored outcomes.
enum class FailureKind { cpu_runaway = 0, memory_leak = 1, crash = 2, bad_deploy = 3, transient = 4 };
inline constexpr int kFailureKindCount = 5;

std::string_view to_string(FailureKind kind);
std::optional<FailureKind> parse_failure_kind(std::string_view name);

// The original design's reward: fast recoveries earn up to 10, slow ones 2,
// failures -10.
double recovery_reward(bool recovered, double recovery_time_s);

}  // namespace heal
