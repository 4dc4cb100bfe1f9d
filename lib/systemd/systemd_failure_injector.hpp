#pragma once
// Real faults for a watched unit, delivered by systemd's KillUnit to the
// unit's main process. The demo service (healerd-demo) turns SIGUSR1 and
// SIGUSR2 into a CPU runaway and a memory leak; a crash is SIGKILL and a hang
// SIGSTOP, which work on any service.
#include <csignal>

#include "recovery/backend.hpp"
#include "systemd/systemd_manager.hpp"

namespace heal {

constexpr int fault_signal(FaultMode mode) {
    switch (mode) {
        case FaultMode::cpu_runaway: return SIGUSR1;
        case FaultMode::memory_leak: return SIGUSR2;
        case FaultMode::crash: return SIGKILL;
        case FaultMode::hang: return SIGSTOP;
    }
    return 0;
}

class SystemdFailureInjector final : public FailureInjector {
public:
    explicit SystemdFailureInjector(systemd::BusScope scope) : scope_(scope) {}
    InjectionResult inject(FaultMode mode, const std::string& unit) override;

private:
    systemd::BusScope scope_;
};

}  // namespace heal
