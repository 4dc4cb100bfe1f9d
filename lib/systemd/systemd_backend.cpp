// make_systemd_backend (declared in recovery/backend.hpp): the real executors,
// fault injector, unit probe and limit restorer, configured from [Recovery].
#include <fmt/format.h>

#include "recovery/backend.hpp"
#include "systemd/hook_rollback.hpp"
#include "systemd/systemd_executors.hpp"
#include "systemd/systemd_failure_injector.hpp"
#include "systemd/systemd_unit_probe.hpp"

namespace heal {

// How long an alert's unit may run before healerd stops waiting to log its end.
constexpr std::chrono::seconds kAlertTimeout{60};

std::unique_ptr<Backend> make_systemd_backend(const BackendOptions& options) {
    const auto scope = options.user_manager ? systemd::BusScope::user : systemd::BusScope::system;
    try {
        // Fails now, with a clear message, rather than at the first recovery.
        systemd::Manager(scope).version();
    } catch (const systemd::Error& error) {
        throw std::runtime_error(fmt::format("systemd backend: cannot reach the {} manager: {}",
                                             options.user_manager ? "user" : "system", error.what()));
    }

    auto backend = std::make_unique<Backend>();
    backend->name = "systemd";
    auto slot = [&](Action action) -> std::unique_ptr<Executor>& {
        return backend->executors.at(static_cast<std::size_t>(action));
    };
    slot(Action::restart) = std::make_unique<SystemdRestartExecutor>(scope, options.dry_run);
    slot(Action::scale_up) = std::make_unique<SystemdScaleUpExecutor>(scope, options.dry_run, options.scale_up_factor);
    RollbackOptions rollback;
    rollback.hook = options.rollback_hook;
    rollback.timeout = options.rollback_timeout;
    rollback.dry_run = options.dry_run;
    slot(Action::rollback) = std::make_unique<HookRollbackExecutor>(scope, rollback);
    slot(Action::do_nothing) = std::make_unique<DoNothingExecutor>();
    backend->injector = std::make_unique<SystemdFailureInjector>(scope);
    backend->probe = std::make_unique<SystemdUnitProbe>(scope, options.package_change_window);
    backend->restorer = std::make_unique<SystemdLimitRestorer>(scope, options.dry_run);
    backend->alerter = std::make_unique<SystemdAlerter>(scope, kAlertTimeout);
    return backend;
}

}  // namespace heal
