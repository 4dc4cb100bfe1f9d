#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "systemd/systemd_failure_injector.hpp"
#include "systemd/systemd_unit_probe.hpp"
#include "systemd_test_support.hpp"
#include "support/skip.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

// A child that sleeps until killed, reaped on destruction.
class Child {
public:
    Child() : pid_(fork()) {
        if (pid_ == 0) {
            for (;;) pause();
        }
        REQUIRE(pid_ > 0);
    }
    ~Child() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_;
};

// process_stopped reads /proc asynchronously to the signal's delivery.
bool becomes(bool expected, pid_t pid) {
    for (int i = 0; i < 200; ++i) {
        if (process_stopped("/proc", pid) == expected) return true;
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

}  // namespace

TEST_CASE("process_stopped reads the state after the command name", "[systemd][probe]") {
    test::TempDir proc;
    proc.write("10/stat", "10 (a) b) T 1 10 10 0 -1\n");
    proc.write("11/stat", "11 (worker (x)) S 1 11 11 0 -1\n");
    proc.write("12/stat", "12 (cut");
    CHECK(process_stopped(proc.root(), 10));
    CHECK_FALSE(process_stopped(proc.root(), 11));
    CHECK_FALSE(process_stopped(proc.root(), 12));
    CHECK_FALSE(process_stopped(proc.root(), 13));  // gone
}

TEST_CASE("process_stopped sees a real SIGSTOP and SIGCONT", "[systemd][probe]") {
    Child child;
    CHECK(becomes(false, child.pid()));
    kill(child.pid(), SIGSTOP);
    CHECK(becomes(true, child.pid()));
    kill(child.pid(), SIGCONT);
    CHECK(becomes(false, child.pid()));
}

TEST_CASE("changed_since compares inode change times with the window", "[systemd][probe]") {
    test::TempDir dir;
    const auto file = dir.write("binary", "x");
    const auto now = std::chrono::system_clock::now();
    CHECK(changed_since({file}, now - 1h));
    CHECK_FALSE(changed_since({file}, now + 1h));
    CHECK(changed_since({dir.root() / "missing", file}, now - 1h));
    CHECK_FALSE(changed_since({dir.root() / "missing", ""}, now - 1h));
}

namespace {
// Sets an environment variable for one test, and puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};
}  // namespace

TEST_CASE("drop_in_stamp changes with the unit's set-property drop-in directories", "[systemd][probe]") {
    test::TempDir dir;
    const std::vector<std::filesystem::path> roots{dir.root() / "run", dir.root() / "etc"};
    const std::uint64_t none = drop_in_stamp(roots, "web.service");
    CHECK(drop_in_stamp(roots, "web.service") == none);  // nothing changed, nothing seen

    const auto runtime = dir.root() / "run/web.service.d";
    std::filesystem::create_directories(runtime);  // systemctl set-property --runtime, the first time
    const auto first = std::filesystem::file_time_type::clock::now() - 10min;
    std::filesystem::last_write_time(runtime, first);
    const std::uint64_t created = drop_in_stamp(roots, "web.service");
    CHECK(created != none);
    std::filesystem::last_write_time(runtime, first + 1s);  // 50-MemoryMax.conf replaced
    const std::uint64_t replaced = drop_in_stamp(roots, "web.service");
    CHECK(replaced != created);
    CHECK(drop_in_stamp(roots, "db.service") == none);  // another unit's settings

    const auto persistent = dir.root() / "etc/web.service.d";  // systemctl set-property, persistent
    std::filesystem::create_directories(persistent);
    std::filesystem::last_write_time(persistent, first);
    CHECK(drop_in_stamp(roots, "web.service") != replaced);
}

TEST_CASE("the control directories of the system and of a user's manager", "[systemd][probe]") {
    CHECK(control_roots(systemd::BusScope::system) ==
          std::vector<std::filesystem::path>{"/run/systemd/system.control", "/etc/systemd/system.control"});
    ScopedEnv runtime("XDG_RUNTIME_DIR", "/run/user/1000");
    ScopedEnv config("XDG_CONFIG_HOME", "/home/u/.config");
    CHECK(control_roots(systemd::BusScope::user) ==
          std::vector<std::filesystem::path>{"/run/user/1000/systemd/user.control", "/home/u/.config/systemd/user.control"});
}

TEST_CASE("the whole machine is always active", "[systemd][probe]") {
    SystemdUnitProbe probe(systemd::BusScope::system, 1h);
    const auto state = probe.probe("");
    CHECK(state.active);
    CHECK_FALSE(state.recent_package_change);
}

TEST_CASE("each fault has its signal", "[systemd][inject]") {
    CHECK(fault_signal(FaultMode::cpu_runaway) == SIGUSR1);
    CHECK(fault_signal(FaultMode::memory_leak) == SIGUSR2);
    CHECK(fault_signal(FaultMode::crash) == SIGKILL);
    CHECK(fault_signal(FaultMode::hang) == SIGSTOP);
}

// ---- against the running system manager (skipped without one) ----

TEST_CASE("live: the probe follows a unit through a hang and a crash", "[systemd][probe][inject][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-probe"), "");
    SystemdUnitProbe probe(systemd::BusScope::system, 1h);
    SystemdFailureInjector injector(systemd::BusScope::system);

    const auto healthy = probe.probe(unit.name());
    CHECK(healthy.active);
    CHECK(healthy.recent_package_change);  // its transient unit file was just written
    CHECK(healthy.control_group == "/system.slice/" + unit.name());

    const auto hung = injector.inject(FaultMode::hang, unit.name());
    CHECK(hung.ok);
    CHECK(hung.detail == "hang: sent SIGSTOP to the main process of " + unit.name());
    bool seen_hung = false;
    for (int i = 0; i < 200 && !seen_hung; ++i, std::this_thread::sleep_for(10ms)) seen_hung = !probe.probe(unit.name()).active;
    CHECK(seen_hung);

    CHECK(injector.inject(FaultMode::crash, unit.name()).ok);
    bool seen_dead = false;
    for (int i = 0; i < 200 && !seen_dead; ++i, std::this_thread::sleep_for(10ms)) {
        systemd::Manager manager;
        const auto path = manager.find_unit(unit.name());
        seen_dead = !path || manager.string_property(*path, "Unit", "ActiveState") != "active";
    }
    CHECK(seen_dead);
    CHECK_FALSE(probe.probe(unit.name()).active);

    const auto gone = injector.inject(FaultMode::cpu_runaway, unit.name());
    CHECK_FALSE(gone.ok);
    CHECK_THAT(gone.detail, Catch::StartsWith("cpu_runaway into " + unit.name() + ": "));
}

TEST_CASE("live: a unit systemd does not know is not active", "[systemd][probe][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    SystemdUnitProbe probe(systemd::BusScope::system, 1h);
    const auto state = probe.probe(test::unique_unit("heal-test-absent"));
    CHECK_FALSE(state.active);
    CHECK_FALSE(state.recent_package_change);
    CHECK_FALSE(state.control_group);
}

TEST_CASE("live: the probe reads systemd's count of automatic restarts, which a restart by hand sets back",
          "[systemd][probe][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit unit(test::unique_unit("heal-test-restarts"), "-p Restart=always -p RestartSec=100ms");
    SystemdUnitProbe probe(systemd::BusScope::system, 1h);
    CHECK(probe.probe(unit.name()).automatic_restarts == 0u);

    const auto run = [](const std::string& command) { REQUIRE(std::system(command.c_str()) == 0); };
    run("systemctl kill -s KILL " + unit.name());
    std::optional<std::uint64_t> restarts;
    for (int i = 0; i < 300 && restarts.value_or(0) < 1; ++i, std::this_thread::sleep_for(10ms))
        restarts = probe.probe(unit.name()).automatic_restarts;
    CHECK(restarts == 1u);

    run("systemctl restart " + unit.name());
    CHECK(probe.probe(unit.name()).automatic_restarts == 0u);
}

TEST_CASE("live: the probe reads the unit's MemoryMax and MemoryHigh, absent when unset", "[systemd][probe][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TransientUnit limited(test::unique_unit("heal-test-limits"), "-p MemoryMax=64M -p MemoryHigh=48M");
    SystemdUnitProbe probe(systemd::BusScope::system, 1h);
    const auto state = probe.probe(limited.name());
    CHECK(state.memory_max == 64u << 20);
    CHECK(state.memory_high == 48u << 20);

    test::TransientUnit unlimited(test::unique_unit("heal-test-limits"), "");
    const auto none = probe.probe(unlimited.name());
    CHECK_FALSE(none.memory_max);
    CHECK_FALSE(none.memory_high);
}
