#include "systemd/systemd_failure_injector.hpp"

#include <fmt/format.h>
#include <string.h>  // sigabbrev_np

namespace heal {

InjectionResult SystemdFailureInjector::inject(FaultMode mode, const std::string& unit) {
    if (unit.empty()) return {false, fmt::format("{} needs a unit to inject into", to_string(mode))};
    const int signal = fault_signal(mode);
    try {
        systemd::Manager manager(scope_);
        manager.kill_unit(unit, "main", signal);
        return {true, fmt::format("{}: sent SIG{} to the main process of {}", to_string(mode), sigabbrev_np(signal), unit)};
    } catch (const systemd::Error& error) {
        return {false, fmt::format("{} into {}: {}", to_string(mode), unit, error.what())};
    }
}

}  // namespace heal
