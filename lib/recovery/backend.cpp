#include "recovery/backend.hpp"

#include <algorithm>

namespace heal {
namespace {
constexpr std::array<std::string_view, kFaultModeCount> kFaultModeNames{"cpu_runaway", "memory_leak", "crash",
                                                                        "hang"};
}  // namespace

Applicability assess_actions(const Backend& backend, const RecoveryRequest& request) {
    Applicability applicability;
    for (const Action action : kAllActions) {
        const auto index = static_cast<std::size_t>(action);
        std::optional<std::string> why_not;
        try {
            why_not = backend.executor(action).unavailable(request);
        } catch (const std::exception& e) {
            why_not = e.what();
        }
        if (why_not) {
            applicability.reasons[index] = why_not->empty() ? "cannot act" : *why_not;
        } else {
            applicability.actions.set(index);
        }
    }
    return applicability;
}

std::string_view to_string(FaultMode mode) { return kFaultModeNames.at(static_cast<std::size_t>(mode)); }

std::optional<FaultMode> parse_fault_mode(std::string_view name) {
    const auto it = std::find(kFaultModeNames.begin(), kFaultModeNames.end(), name);
    if (it == kFaultModeNames.end()) return std::nullopt;
    return static_cast<FaultMode>(it - kFaultModeNames.begin());
}

}  // namespace heal
