#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "detection/probe_loop.hpp"
#include "detection/probe_runner.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace heal;
using namespace heal::test;
using namespace std::chrono_literals;

namespace {

// One attempt each (the next is an hour away); failing at the first failure.
ProbeOptions once() {
    ProbeOptions options = fast_options();
    options.interval = 1h;
    options.failure_threshold = 1;
    return options;
}

ProbeSpec command(std::vector<std::string> argv, ProbeOptions options = once(), std::string user = "") {
    return ProbeSpec{"redis.service", ProbeTarget{ProbeKind::exec, {}, 0, {}, std::move(argv)}, options,
                     std::move(user)};
}

// Every child of this process has been reaped: none runs, no zombie waits.
bool no_children_left() {
    siginfo_t info{};
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

// A child of this process is running (or waits to be reaped).
bool child_running() {
    std::ifstream children("/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/children");
    std::string pid;
    return static_cast<bool>(children >> pid);
}

// `pid` has ended: gone, or a zombie waiting for its (new) parent.
bool ended(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    return line.substr(line.rfind(')') + 2, 1) == "Z";
}

bool has_result(const ProbeRunner::Probe& probe) { return static_cast<bool>(probe.state.last()); }

bool all_ran(const ProbeRunner& runner) {
    const auto probes = runner.probes();
    return std::all_of(probes.begin(), probes.end(), has_result);
}

}  // namespace

TEST_CASE("probe exec: exit status 0 is success, any other a failure", "[probe]") {
    EventLoop loop;
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({command({"/bin/true"}), command({"/bin/false"}), command({"/bin/sh", "-c", "kill -9 $$"})});
    REQUIRE(loop.run_until([&] { return all_ran(runner); }));
    const auto probes = runner.probes();
    CHECK(probes[0].state.health() == ProbeHealth::healthy);
    CHECK(probes[1].state.health() == ProbeHealth::failing);
    CHECK(probes[1].state.last()->error == "exited with status 1");
    CHECK(probes[2].state.last()->error == "killed by SIGKILL");
    CHECK(no_children_left());
}

TEST_CASE("probe exec: a command that outlives its timeout is killed, reaped and reported as timed out", "[probe]") {
    EventLoop loop;
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({command({"/bin/sleep", "10"})});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return state.health() == ProbeHealth::failing; }));
    CHECK(state.last()->error == "timed out");
    CHECK(state.consecutive_failures() == 1);
    CHECK(no_children_left());
}

TEST_CASE("probe exec: at the timeout the whole process group of the command is killed", "[probe]") {
    EventLoop loop;
    TempDir dir;
    const std::string pid_file = (dir / "background.pid").string();
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({command({"/bin/sh", "-c", "/bin/sleep 10 & echo $! >" + pid_file + "; exec /bin/sleep 10"})});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return state.health() == ProbeHealth::failing; }));
    CHECK(state.last()->error == "timed out");
    std::string background;
    REQUIRE(std::ifstream(pid_file) >> background);
    // Killed with its group, then reparented: it ends without us.
    CHECK(loop.run_until([&] { return ended(background); }));
}

TEST_CASE("probe exec: a command that cannot run says why", "[probe]") {
    EventLoop loop;
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({command({"/nonexistent/probe"})});
    REQUIRE(loop.run_until([&] { return has_result(runner.probes()[0]); }));
    CHECK(runner.probes()[0].state.last()->error == "cannot run /nonexistent/probe: no such file or directory");
    CHECK(no_children_left());
}

TEST_CASE("probe exec: runs as the unit user when healerd is root", "[probe]") {
    if (geteuid() != 0) HEAL_SKIP("not root: a probe runs as healerd's own user");
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) HEAL_SKIP("no user nobody");
    const std::string is_nobody = "test \"$(/usr/bin/id -u)\" = " + std::to_string(nobody->pw_uid);
    EventLoop loop;
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({command({"/bin/sh", "-c", is_nobody}, once(), "nobody"),
                        command({"/bin/sh", "-c", is_nobody}, once(), ""),
                        command({"/bin/true"}, once(), "no-such-user-healerd")});
    REQUIRE(loop.run_until([&] { return all_ran(runner); }));
    const auto probes = runner.probes();
    CHECK(probes[0].state.health() == ProbeHealth::healthy);
    CHECK(probes[1].state.last()->error == "exited with status 1");  // root stays root without a user
    CHECK(probes[2].state.last()->error == "no user 'no-such-user-healerd'");
}

TEST_CASE("probe exec: destroying the runner kills and reaps a running command", "[probe]") {
    EventLoop loop;
    loop.create_timer_fd();
    const std::size_t fds = open_fds();
    {
        ProbeOptions slow = once();
        slow.timeout = 1h;
        ProbeRunner runner(loop.get(), {});
        runner.reconfigure({command({"/bin/sleep", "10"}, slow)});
        REQUIRE(loop.run_until(child_running));
    }
    CHECK(no_children_left());
    CHECK(open_fds() == fds);
}
