#include <catch2/catch.hpp>

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

TEST_CASE("plan_scale_up raises the limits the failure calls for", "[systemd][scale_up]") {
    ResourceLimits current{.memory_max = 128 * MiB, .memory_high = 96 * MiB, .cpu_quota_per_sec_usec = 500000};
    ScaleUpOptions options{.factor = 1.5, .memory_ceiling = std::nullopt, .cpu_quota_ceiling_usec = 600000};

    const auto memory = plan_scale_up(FailureKind::memory_leak, current, options);
    REQUIRE(memory.changes.size() == 2);
    CHECK(memory.changes[0].property == "MemoryMax");
    CHECK(memory.changes[0].from == 128 * MiB);
    CHECK(memory.changes[0].to == 192 * MiB);
    CHECK(memory.changes[1].property == "MemoryHigh");
    CHECK(memory.changes[1].to == 144 * MiB);
    CHECK(describe(memory.changes) == "MemoryMax 128M -> 192M, MemoryHigh 96M -> 144M");

    const auto cpu = plan_scale_up(FailureKind::cpu_runaway, current, options);
    REQUIRE(cpu.changes.size() == 1);
    CHECK(describe(cpu.changes) == "CPUQuota 50% -> 60%");  // capped by the ceiling

    CHECK(plan_scale_up(FailureKind::crash, current, options).changes.size() == 3);
}

TEST_CASE("a request's own ceilings replace the executor's", "[systemd][scale_up]") {
    const ScaleUpOptions options{.factor = 2.0, .memory_ceiling = 1024 * MiB, .cpu_quota_ceiling_usec = 2000000};
    RecoveryRequest request{"db.service", FailureKind::crash, "reason"};
    CHECK(for_request(options, request).memory_ceiling == 1024 * MiB);
    request.ceilings = LimitCeilings{.memory_bytes = 160 * MiB, .cpu_quota_percent = std::nullopt};
    const ScaleUpOptions own = for_request(options, request);
    CHECK(own.factor == 2.0);
    CHECK(own.memory_ceiling == 160 * MiB);
    CHECK_FALSE(own.cpu_quota_ceiling_usec);  // infinity
    const ResourceLimits current{.memory_max = 128 * MiB, .memory_high = kInfinity, .cpu_quota_per_sec_usec = 500000};
    CHECK(describe(plan_scale_up(FailureKind::crash, current, own).changes) == "MemoryMax 128M -> 160M, CPUQuota 50% -> 100%");
}

TEST_CASE("plan_scale_up says why nothing can be raised", "[systemd][scale_up]") {
    ScaleUpOptions options{.factor = 1.5, .memory_ceiling = 128 * MiB, .cpu_quota_ceiling_usec = std::nullopt};
    const auto unlimited = plan_scale_up(FailureKind::memory_leak, ResourceLimits{}, options);
    CHECK(unlimited.changes.empty());
    CHECK(unlimited.why_not == "MemoryMax not set, MemoryHigh not set");

    ResourceLimits at_ceiling;
    at_ceiling.memory_max = 128 * MiB;
    const auto capped = plan_scale_up(FailureKind::memory_leak, at_ceiling, options);
    CHECK(capped.changes.empty());
    CHECK(capped.why_not == "MemoryMax 128M already at its ceiling, MemoryHigh not set");

    // A CPU runaway never touches memory limits, and memory is all this unit has.
    ResourceLimits memory_only;
    memory_only.memory_max = 64 * MiB;
    CHECK(plan_scale_up(FailureKind::cpu_runaway, memory_only, options).changes.empty());
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
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, ScaleUpOptions{});
    CHECK_FALSE(scale.execute(machine).ok);
}

TEST_CASE("scale_up refuses units without cgroup limits", "[systemd][scale_up]") {
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false, ScaleUpOptions{});
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
    SystemdScaleUpExecutor scale(systemd::BusScope::system, false,
                                 ScaleUpOptions{.factor = 1.5, .memory_ceiling = 80 * MiB,
                                                .cpu_quota_ceiling_usec = 600000});
    const RecoveryRequest leak{.unit = unit.name(), .kind = FailureKind::memory_leak, .reason = "test"};
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

    const auto cpu = scale.execute({.unit = unit.name(), .kind = FailureKind::cpu_runaway, .reason = "test"});
    CHECK(cpu.ok);
    CHECK(manager.u64_property(path, "Service", "CPUQuotaPerSecUSec") == 600000);
}

TEST_CASE("live: a dry-run scale_up reads the limits but changes none", "[systemd][live][scale_up]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-dry"), "-p MemoryMax=64M");
    ScaleUpOptions doubling;
    doubling.factor = 2.0;
    SystemdScaleUpExecutor scale(systemd::BusScope::system, true, doubling);
    const auto result = scale.execute({.unit = unit.name(), .kind = FailureKind::memory_leak, .reason = "test"});
    CHECK(result.ok);
    CHECK(result.detail == "dry-run: would set MemoryMax 64M -> 128M on " + unit.name());
    systemd::Manager manager;
    CHECK(manager.u64_property(manager.load_unit(unit.name()), "Service", "MemoryMax") == 64 * MiB);
}
