#include <catch2/catch.hpp>

#include "core/limit_text.hpp"
#include "systemd/systemd_executors.hpp"
#include "systemd_test_support.hpp"
#include "support/skip.hpp"

using namespace heal;
using systemd::kInfinity;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;
}

TEST_CASE("raised_limit multiplies, caps at the ceiling and never lowers", "[systemd][scale_up]") {
    CHECK(raised_limit(128 * MiB, 1.5, std::nullopt) == 192 * MiB);
    CHECK(raised_limit(100, 1.25, std::nullopt) == 125);
    CHECK(raised_limit(101, 1.5, std::nullopt) == 152);  // rounds up: never a raise of zero
    CHECK(raised_limit(128 * MiB, 2.0, 160 * MiB) == 160 * MiB);
    CHECK_FALSE(raised_limit(160 * MiB, 2.0, 160 * MiB));
    CHECK_FALSE(raised_limit(200 * MiB, 2.0, 160 * MiB));  // above the ceiling already
    CHECK_FALSE(raised_limit(kInfinity, 1.5, std::nullopt));
    CHECK_FALSE(raised_limit(100, 1.0, std::nullopt));
    CHECK(raised_limit(kInfinity - 10, 4.0, std::nullopt) == kInfinity - 1);  // never becomes "no limit"
}

namespace {
// A request with absolute ceilings (bytes, % of one CPU), or none.
RecoveryRequest request_for(FailureKind kind, LimitCeiling memory, LimitCeiling cpu) {
    return RecoveryRequest{.unit = "db.service", .kind = kind, .reason = "test", .ceilings = {memory, cpu}, .raised = {}};
}
}  // namespace

TEST_CASE("plan_scale_up raises the limits the failure calls for", "[systemd][scale_up]") {
    ResourceLimits current{.memory_max = 128 * MiB, .memory_high = 96 * MiB, .cpu_quota_per_sec_usec = 500000};
    const auto unlimited = LimitCeiling::unlimited();
    const auto sixty = LimitCeiling::absolute(60.0);

    const auto memory = plan_scale_up(request_for(FailureKind::memory_leak, unlimited, sixty), current, 1.5);
    REQUIRE(memory.changes.size() == 2);
    CHECK(memory.changes[0].property == "MemoryMax");
    CHECK(memory.changes[0].from == 128 * MiB);
    CHECK(memory.changes[0].to == 192 * MiB);
    CHECK(memory.changes[1].property == "MemoryHigh");
    CHECK(memory.changes[1].to == 144 * MiB);
    CHECK(describe(memory.changes) == "MemoryMax 128M -> 192M, MemoryHigh 96M -> 144M");

    const auto cpu = plan_scale_up(request_for(FailureKind::cpu_runaway, unlimited, sixty), current, 1.5);
    REQUIRE(cpu.changes.size() == 1);
    CHECK(describe(cpu.changes) == "CPUQuota 50% -> 60%");  // capped by the ceiling

    CHECK(plan_scale_up(request_for(FailureKind::crash, unlimited, sixty), current, 1.5).changes.size() == 3);
}

TEST_CASE("the default ceilings are twice the limits the operator configured", "[systemd][scale_up]") {
    RecoveryRequest request{.unit = "db.service", .kind = FailureKind::crash, .reason = "test"};
    CHECK(request.ceilings == LimitCeilings{LimitCeiling::multiple(2.0), LimitCeiling::multiple(2.0)});
    const ResourceLimits configured{.memory_max = 300 * MiB, .memory_high = kInfinity, .cpu_quota_per_sec_usec = 500000};
    const auto first = plan_scale_up(request, configured, 1.5);
    CHECK(describe(first.changes) == "MemoryMax 300M -> 450M, CPUQuota 50% -> 75%");

    // Raised once already: the ceiling is twice the configured 300M, not twice the raised 450M.
    request.raised = first.changes;
    const ResourceLimits raised{.memory_max = 450 * MiB, .memory_high = kInfinity, .cpu_quota_per_sec_usec = 750000};
    const auto second = plan_scale_up(request, raised, 1.5);
    CHECK(describe(second.changes) == "MemoryMax 450M -> 600M, CPUQuota 75% -> 100%");
    request.raised = {{"MemoryMax", 300 * MiB, 600 * MiB}, {"CPUQuotaPerSecUSec", 500000, 1000000}};
    const ResourceLimits at_ceiling{.memory_max = 600 * MiB, .memory_high = kInfinity, .cpu_quota_per_sec_usec = 1000000};
    const auto third = plan_scale_up(request, at_ceiling, 1.5);
    CHECK(third.changes.empty());
    CHECK(third.why_not == "MemoryMax 600M already at its ceiling, MemoryHigh not set, CPUQuota 100% already at its ceiling");
}

TEST_CASE("ceiling_value resolves multiples, absolute values and no ceiling", "[systemd][scale_up]") {
    CHECK(ceiling_value(LimitCeiling::multiple(2.0), 300 * MiB, 1.0) == 600 * MiB);
    CHECK(ceiling_value(LimitCeiling::multiple(1.5), 500000, 10000.0) == 750000);
    CHECK(ceiling_value(LimitCeiling::absolute(200.0), 500000, 10000.0) == 2000000);  // CPUQuota=200%
    CHECK(ceiling_value(LimitCeiling::absolute(4096.0), 1, 1.0) == 4096);
    CHECK_FALSE(ceiling_value(LimitCeiling::unlimited(), 300 * MiB, 1.0));
    CHECK(ceiling_value(LimitCeiling::multiple(4.0), kInfinity - 10, 1.0) == kInfinity - 1);  // never "no limit"
}

TEST_CASE("plan_restore puts back only what still has healerd's value", "[systemd][scale_up]") {
    const std::vector<LimitChange> raised{{"MemoryMax", 300 * MiB, 450 * MiB},
                                          {"MemoryHigh", 200 * MiB, 300 * MiB},
                                          {"CPUQuotaPerSecUSec", 500000, 750000}};
    const ResourceLimits now{.memory_max = 450 * MiB, .memory_high = 512 * MiB, .cpu_quota_per_sec_usec = 750000};
    const RestorePlan plan = plan_restore(raised, now);
    CHECK(describe(plan.changes) == "MemoryMax 450M -> 300M, CPUQuota 75% -> 50%");
    REQUIRE(plan.kept.size() == 1);  // the operator set MemoryHigh=512M since: theirs
    CHECK(plan.kept[0] == "MemoryHigh 512M (changed since healerd raised it to 300M)");

    const ResourceLimits lifted{.memory_max = kInfinity, .memory_high = kInfinity, .cpu_quota_per_sec_usec = kInfinity};
    const RestorePlan none = plan_restore({raised[0]}, lifted);
    CHECK(none.changes.empty());
    CHECK(none.kept == std::vector<std::string>{"MemoryMax infinity (changed since healerd raised it to 450M)"});
}

TEST_CASE("plan_scale_up says why nothing can be raised", "[systemd][scale_up]") {
    const auto leak = request_for(FailureKind::memory_leak, LimitCeiling::absolute(128.0 * MiB), LimitCeiling::unlimited());
    const auto unlimited = plan_scale_up(leak, ResourceLimits{}, 1.5);
    CHECK(unlimited.changes.empty());
    CHECK(unlimited.why_not == "MemoryMax not set, MemoryHigh not set");

    ResourceLimits at_ceiling;
    at_ceiling.memory_max = 128 * MiB;
    const auto capped = plan_scale_up(leak, at_ceiling, 1.5);
    CHECK(capped.changes.empty());
    CHECK(capped.why_not == "MemoryMax 128M already at its ceiling, MemoryHigh not set");

    // A CPU runaway never touches memory limits, and memory is all this unit has.
    ResourceLimits memory_only;
    memory_only.memory_max = 64 * MiB;
    CHECK(plan_scale_up(request_for(FailureKind::cpu_runaway, LimitCeiling::unlimited(), LimitCeiling::unlimited()),
                        memory_only, 1.5)
              .changes.empty());
}

TEST_CASE("format_bytes writes sizes as systemctl does", "[systemd][scale_up]") {
    CHECK(format_bytes(512) == "512B");
    CHECK(format_bytes(1024) == "1K");
    CHECK(format_bytes(128 * MiB) == "128M");
    CHECK(format_bytes(1536 * MiB) == "1.5G");
    CHECK(format_bytes(3 * 1024 * 1024 * MiB) == "3T");
}

TEST_CASE("executors refuse to act on the whole machine", "[systemd]") {
    const RecoveryRequest machine{.unit = "", .kind = FailureKind::cpu_runaway, .reason = "cpu high"};
    SystemdRestartExecutor restart(systemd::BusScope::system, false);
    const auto restarted = restart.execute(machine);
    CHECK_FALSE(restarted.ok);
    CHECK(restarted.detail == "restart needs a unit; it cannot act on the whole machine");
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, 1.5);
    CHECK_FALSE(scale.execute(machine).ok);
}

TEST_CASE("scale_up refuses units without cgroup limits", "[systemd][scale_up]") {
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, 1.5);
    const auto result = scale.execute({.unit = "multi-user.target", .kind = FailureKind::memory_leak, .reason = ""});
    CHECK_FALSE(result.ok);
    CHECK(result.detail == "multi-user.target has no cgroup limits to raise");
}

TEST_CASE("a dry-run restart changes nothing and says what it would do", "[systemd]") {
    SystemdRestartExecutor restart(systemd::BusScope::system, true);
    const auto result = restart.execute({.unit = "nginx.service", .kind = FailureKind::crash, .reason = ""});
    CHECK(result.ok);
    CHECK(result.detail == "dry-run: would restart nginx.service");
}

TEST_CASE("do_nothing only observes", "[systemd]") {
    DoNothingExecutor nothing;
    CHECK(nothing.action() == Action::do_nothing);
    const auto result = nothing.execute({.unit = "nginx.service", .kind = FailureKind::transient, .reason = ""});
    CHECK(result.ok);
    CHECK(result.detail == "no action; observing nginx.service");
    CHECK_FALSE(nothing.unavailable({.unit = "nginx.service", .kind = FailureKind::transient, .reason = ""}));
}

TEST_CASE("on a real host no action is offered for the machine, not even do_nothing", "[systemd]") {
    const RecoveryRequest machine{.unit = "", .kind = FailureKind::cpu_runaway, .reason = "cpu 99%"};
    DoNothingExecutor nothing;
    CHECK(nothing.unavailable(machine) == "healerd acts on units only; the machine is observed, not recovered");
    CHECK_FALSE(nothing.execute(machine).ok);
    SystemdRestartExecutor restart(systemd::BusScope::system, false);
    CHECK(restart.unavailable(machine));
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, 1.5);
    CHECK(scale.unavailable(machine));
}

TEST_CASE("unit names map to their resource interface", "[systemd]") {
    CHECK(systemd::resource_interface("nginx.service") == "Service");
    CHECK(systemd::resource_interface("user.slice") == "Slice");
    CHECK(systemd::resource_interface("session-1.scope") == "Scope");
    CHECK_FALSE(systemd::resource_interface("multi-user.target"));
    CHECK_FALSE(systemd::resource_interface("nodot"));
    CHECK(systemd::unit_name_fragment("a b/c@d.e-f:g") == "a_b_c_d.e-f:g");
}

// ---- against the running system manager (skipped without one) ----

TEST_CASE("live: restart replaces the unit's main process", "[systemd][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-restart"), "");
    systemd::Manager manager;
    const auto path = manager.load_unit(unit.name());
    const auto before = manager.u32_property(path, "Service", "MainPID");
    REQUIRE(before != 0);

    SystemdRestartExecutor restart(systemd::BusScope::system, false);
    const auto result = restart.execute({.unit = unit.name(), .kind = FailureKind::crash, .reason = "test"});
    CHECK(result.ok);
    CHECK(result.detail == "restarted " + unit.name());
    CHECK(manager.string_property(path, "Unit", "ActiveState") == "active");
    const auto after = manager.u32_property(path, "Service", "MainPID");
    CHECK(after != 0);
    CHECK(after != before);
}

TEST_CASE("live: restart of a unit that cannot start reports the job result", "[systemd][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    SystemdRestartExecutor restart(systemd::BusScope::system, false);
    const auto missing = test::unique_unit("heal-test-missing");
    const auto result = restart.execute({.unit = missing, .kind = FailureKind::crash, .reason = "test"});
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.detail, Catch::Contains(missing));
}

TEST_CASE("live: scale_up raises MemoryMax and MemoryHigh at runtime", "[systemd][live][scale_up]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-scale"),
                             "-p MemoryMax=64M -p MemoryHigh=48M -p CPUQuota=50%");
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, 1.5);
    const LimitCeilings ceilings{LimitCeiling::absolute(80.0 * MiB), LimitCeiling::absolute(60.0)};
    const RecoveryRequest leak{.unit = unit.name(), .kind = FailureKind::memory_leak, .reason = "test", .ceilings = ceilings};
    const auto raised = scale.execute(leak);
    CHECK(raised.ok);
    CHECK(raised.detail == "MemoryMax 64M -> 80M, MemoryHigh 48M -> 72M on " + unit.name() + " (runtime)");

    systemd::Manager manager;
    const auto path = manager.load_unit(unit.name());
    CHECK(manager.u64_property(path, "Service", "MemoryMax") == 80 * MiB);
    CHECK(manager.u64_property(path, "Service", "MemoryHigh") == 72 * MiB);
    CHECK(manager.u64_property(path, "Service", "CPUQuotaPerSecUSec") == 500000);  // a leak leaves the CPU alone

    const auto again = scale.execute(leak);
    CHECK(again.ok);  // MemoryHigh may still rise to the ceiling
    const auto exhausted = scale.execute(leak);
    CHECK_FALSE(exhausted.ok);
    CHECK_THAT(exhausted.detail, Catch::Contains("already at its ceiling"));

    const auto cpu = scale.execute({.unit = unit.name(), .kind = FailureKind::cpu_runaway, .reason = "test", .ceilings = ceilings});
    CHECK(cpu.ok);
    CHECK(manager.u64_property(path, "Service", "CPUQuotaPerSecUSec") == 600000);
}

TEST_CASE("live: the restorer puts back what scale_up raised, unless the operator changed it", "[systemd][live][scale_up]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-restore"), "-p MemoryMax=64M -p CPUQuota=50%");
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, 1.5);
    const auto raised = scale.execute({.unit = unit.name(), .kind = FailureKind::crash, .reason = "test"});
    REQUIRE(raised.ok);
    REQUIRE(raised.limit_changes.size() == 2);
    systemd::Manager manager;
    const auto path = manager.load_unit(unit.name());
    manager.set_runtime_properties(unit.name(), {{"CPUQuotaPerSecUSec", 900000}});  // the operator's own choice

    SystemdLimitRestorer restorer(systemd::BusScope::system, false);
    const auto restored = restorer.restore(unit.name(), raised.limit_changes);
    CHECK(restored.ok);
    CHECK(restored.detail == "MemoryMax 96M -> 64M on " + unit.name() +
                                 " (runtime); left alone: CPUQuota 90% (changed since healerd raised it to 75%)");
    CHECK(manager.u64_property(path, "Service", "MemoryMax") == 64 * MiB);
    CHECK(manager.u64_property(path, "Service", "CPUQuotaPerSecUSec") == 900000);
}

TEST_CASE("live: a dry-run scale_up reads the limits but changes none", "[systemd][live][scale_up]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-dry"), "-p MemoryMax=64M");
    SystemdScaleUpExecutor scale(systemd::BusScope::system, true, 2.0);
    const auto result = scale.execute({.unit = unit.name(), .kind = FailureKind::memory_leak, .reason = "test"});
    CHECK(result.ok);
    CHECK(result.detail == "dry-run: would set MemoryMax 64M -> 128M on " + unit.name());
    systemd::Manager manager;
    CHECK(manager.u64_property(manager.load_unit(unit.name()), "Service", "MemoryMax") == 64 * MiB);
}
