#include "recovery/backend.hpp"

#include <algorithm>

namespace heal {
namespace {
constexpr std::array<std::string_view, kFaultModeCount> kFaultModeNames{"cpu_runaway", "memory_leak", "crash",
                                                                        "hang"};
}  // namespace

ActionSet applicable_actions(const Backend& backend, const std::string& unit) {
    if (!unit.empty() || backend.simulated()) return all_actions();
    return ActionSet().set(static_cast<std::size_t>(Action::do_nothing));
}

std::string_view to_string(FaultMode mode) { return kFaultModeNames.at(static_cast<std::size_t>(mode)); }

std::optional<FaultMode> parse_fault_mode(std::string_view name) {
    const auto it = std::find(kFaultModeNames.begin(), kFaultModeNames.end(), name);
    if (it == kFaultModeNames.end()) return std::nullopt;
    return static_cast<FaultMode>(it - kFaultModeNames.begin());
}

}  // namespace heal
