#pragma once
// The seam between healerd and whatever acts on the system. A Backend bundles
// one Executor per Action, a FailureInjector (deliberate faults for demos and
// tests) and a UnitProbe (unit liveness and recent package changes, used for
// the policy's observation and for validating a recovery).
//
// Two implementations: the simulated one (make_simulated_backend, in this
// area, no systemd needed) and the systemd one (make_systemd_backend,
// systemd_backend.cpp). No D-Bus types appear here.
//
// Threading: the daemon calls every part of a Backend from worker threads,
// never from its event loop, and may call the same part from several threads
// at once (recoveries of different units run concurrently). Implementations
// must be thread-safe; blocking for a few seconds is fine.
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.hpp"
#include "core/action_set.hpp"
#include "recovery/alert.hpp"
#include "recovery/executor.hpp"

namespace heal {

class FaultOverlay;

// The faults SimulateFailure can inject into a watched unit.
enum class FaultMode {
    cpu_runaway = 0,  // the unit burns CPU (real: SIGUSR1 to the demo service)
    memory_leak = 1,  // the unit's memory grows (real: SIGUSR2 to the demo service)
    crash = 2,        // the unit dies (real: SIGKILL)
    hang = 3,         // the unit stops responding (real: SIGSTOP)
};
inline constexpr int kFaultModeCount = 4;

std::string_view to_string(FaultMode mode);
std::optional<FaultMode> parse_fault_mode(std::string_view name);

struct InjectionResult {
    bool ok = false;
    std::string detail;  // one line: what was done, or why it could not be
};

class FailureInjector {
public:
    virtual ~FailureInjector() = default;
    // `unit` is one of the watched units, and one whose settings allow real
    // fault injection (the daemon checks both first).
    virtual InjectionResult inject(FaultMode mode, const std::string& unit) = 0;
};

struct UnitState {
    bool active = true;                  // running and responding (ActiveState active/reloading)
    bool recent_package_change = false;  // the unit's package changed within the window
    std::optional<std::string> control_group;  // systemd's ControlGroup property, when known
    // systemd's MemoryMax, absent when unlimited or unknown. Units are judged
    // against it where the cgroup files show no limit (v1 not delegated).
    std::optional<std::uint64_t> memory_max;
    std::optional<std::uint64_t> memory_high{};  // systemd's MemoryHigh, the same way
    // Inactive after a clean stop or exit (Result=success): the operator's or
    // the service's own doing, which systemd's Restart=on-failure leaves alone too.
    bool stopped = false;
    // Restarts its Restart= made (systemd's NRestarts): services only.
    std::optional<std::uint64_t> automatic_restarts{};
};

class UnitProbe {
public:
    virtual ~UnitProbe() = default;
    // `unit` "" is the whole machine: always active, no package change.
    virtual UnitState probe(const std::string& unit) = 0;
    // A value that changes when the unit's settings may have changed
    // (systemctl set-property), read without asking PID 1, which announces
    // no such change: the daemon probes the unit again when it does.
    virtual std::uint64_t settings_stamp(const std::string& unit) = 0;
};

// Puts limits that scale_up raised back to their configured values
// (ExecutionResult::limit_changes says what changed). A limit no longer at
// the value healerd set was changed by the operator since: it is left alone.
class LimitRestorer {
public:
    virtual ~LimitRestorer() = default;
    virtual ExecutionResult restore(const std::string& unit, const std::vector<LimitChange>& raised) = 0;
};

struct Backend {
    std::string name;  // "systemd" or "simulated", shown in status and stored with each action
    std::array<std::unique_ptr<Executor>, kActionCount> executors;  // indexed by Action
    std::unique_ptr<FailureInjector> injector;
    std::unique_ptr<UnitProbe> probe;
    std::unique_ptr<LimitRestorer> restorer;
    std::unique_ptr<Alerter> alerter;

    bool simulated() const { return name == "simulated"; }
    Executor& executor(Action action) const { return *executors.at(static_cast<std::size_t>(action)); }
};

// Which actions can act on the request's target now, each executor judging
// its own (Executor::unavailable), and why each other one cannot. Blocking:
// worker threads only.
struct Applicability {
    ActionSet actions;
    std::array<std::string, kActionCount> reasons;  // indexed by Action; "" for those that can act
};
Applicability assess_actions(const Backend& backend, const RecoveryRequest& request);

// What the real executors need from the [Recovery] configuration.
struct BackendOptions {
    double scale_up_factor = 1.5;                          // MemoryMax/CPUQuota multiplied by this
    LimitCeilings ceilings;                                // [Recovery]'s; a unit's own replace them
    std::filesystem::path rollback_hook = "/etc/healerd/rollback.d";  // a file or a directory of hooks
    std::chrono::seconds rollback_timeout{300};            // RuntimeMaxSec= of the hook's transient unit
    std::chrono::seconds package_change_window{3600};      // "recent" for UnitProbe
    bool dry_run = false;                                  // log what would be done, change nothing
    bool user_manager = false;                             // talk to the user's systemd (healerd --user)

    bool operator==(const BackendOptions&) const = default;
};

// Real executors on systemd (restart unit, raise MemoryMax/CPUQuota, run the
// rollback hook, do nothing), fault injection with KillUnit, and probing with
// the unit's ActiveState. Throws std::runtime_error when systemd is unreachable.
std::unique_ptr<Backend> make_systemd_backend(const BackendOptions& options);

// The chance that each simulated action heals an injected fault, indexed by Action.
using HealChances = std::array<double, kActionCount>;
// The original design's odds: restart 70 %, scale_up 60 %, rollback 50 %, do_nothing 20 %.
inline constexpr HealChances kDefaultHealChances{0.7, 0.6, 0.5, 0.2};

// The simulation's dice, from [Simulation] (used with healerd --simulated only).
struct SimulationOptions {
    std::optional<std::uint64_t> seed;              // Seed=; absent: a random seed at each start
    HealChances heal_chances = kDefaultHealChances;  // HealChance=

    bool operator==(const SimulationOptions&) const = default;
};

// Executors that heal faults in `overlay` with `heal_chances` drawn from an
// RNG seeded with `seed`; the injector and the probe act on the same
// overlay. Actions pretend to take time (restart 0.3 s, scale_up 0.1 s,
// rollback 0.6 s) multiplied by `time_scale`; tests pass 0. The daemon pairs
// this backend with a SimulatedSampler (recovery/simulated_sampler.hpp).
std::unique_ptr<Backend> make_simulated_backend(std::shared_ptr<FaultOverlay> overlay, std::uint64_t seed,
                                                double time_scale = 1.0,
                                                const HealChances& heal_chances = kDefaultHealChances);

}  // namespace heal
