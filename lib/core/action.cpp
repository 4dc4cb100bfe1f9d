#include "core/action.hpp"

#include <algorithm>

namespace heal {
namespace {

constexpr std::array<std::string_view, kActionCount> kActionNames{
    "restart", "scale_up", "rollback", "do_nothing"};
constexpr std::array<std::string_view, kFailureKindCount> kFailureKindNames{
    "cpu_runaway", "memory_leak", "crash", "bad_deploy", "transient"};

template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names, std::string_view name) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<Enum>(it - names.begin());
}

}  // namespace

std::string_view to_string(Action action) { return kActionNames.at(static_cast<std::size_t>(action)); }

std::optional<Action> parse_action(std::string_view name) { return parse_name<Action>(kActionNames, name); }

std::string_view to_string(FailureKind kind) { return kFailureKindNames.at(static_cast<std::size_t>(kind)); }

std::optional<FailureKind> parse_failure_kind(std::string_view name) {
    return parse_name<FailureKind>(kFailureKindNames, name);
}

double recovery_reward(bool recovered, double recovery_time_s) {
    if (!recovered) return -10.0;
    return std::max(2.0, 10.0 - 2.0 * recovery_time_s);
}

}  // namespace heal
