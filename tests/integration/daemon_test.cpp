// Every healctl command against a real healerd --user --simulated on a private bus.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kActions = {"restart", "scale_up", "rollback", "do_nothing"};

// Waits for at least `count` machine samples, so sparklines have something to show.
void wait_for_samples(std::size_t count) {
    REQUIRE(eventually([&] { return status_of()["cpu_history"].size() >= count; }));
}

bool has_sparkline(const std::string& text) {
    for (const char* block : {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"})
        if (text.find(block) != std::string::npos) return true;
    return false;
}

void check_action_shape(const Json& a) {
    CHECK(is_iso8601_utc(a["timestamp"]));
    CHECK(std::find(kActions.begin(), kActions.end(), a["action"].get<std::string>()) != kActions.end());
    CHECK(a["result"] == "recovered");  // test_config(): every simulated action heals
    CHECK(a["reward"].is_number());
    CHECK(a["recovery_time"].is_number());
    CHECK(a["unit"].is_string());
    CHECK((a["failure_kind"].is_null() || a["failure_kind"].is_string()));
}

// A "Key:   N kB" line of /proc/PID/status, in KiB.
long status_kib(pid_t pid, const std::string& key) {
    const std::string status = read_file(fmt::format("/proc/{}/status", pid));
    const auto line = status.find("\n" + key + ":");
    REQUIRE(line != std::string::npos);
    return std::stol(status.substr(line + key.size() + 2));
}

// healerd's resident memory is at least `kib` below its peak.
bool rss_below_peak(pid_t pid, long kib) {
    return status_kib(pid, "VmRSS") + kib <= status_kib(pid, "VmHWM");
}

}  // namespace

TEST_CASE("busctl introspect shows the org.healerd.Healer1 interface", "[daemon]") {
    DaemonEnvironment env;
    const RunResult result = run({BUSCTL_PATH, "--user", "introspect", "org.healerd.Healer1", "/org/healerd/Healer1"});
    INFO(result.describe());
    REQUIRE(result.exit_code == 0);
    for (const char* member :
         {"org.healerd.Healer1", ".GetMetrics", ".GetActions", ".GetIncidents", ".GetSummary", ".Detect",
          ".GetPolicy", ".GetDecision", ".Recover", ".Train", ".SimulateFailure", ".Pause", ".Resume", ".Health",
          ".Cpu", ".Memory", ".FailureCount", ".Policy", ".ModelLoaded", ".TrainingState", ".Backend",
          ".AutoRecover", ".WatchedUnits", ".UnitStates", ".Paused", ".Version", ".FailureDetected",
          ".RecoveryFinished", ".TrainingProgress", ".TrainingFinished", "org.freedesktop.DBus.Properties"})
        CHECK(result.out.find(member) != std::string::npos);
}

TEST_CASE("read-only commands report the daemon's state", "[daemon]") {
    DaemonEnvironment env;
    wait_for_samples(5);

    SECTION("status") {
        const Json s = status_of();
        CHECK(s["health"] == "healthy");
        CHECK(s["backend"] == "simulated");
        CHECK(s["policy"] == "ladder");
        CHECK(s["model_loaded"] == false);
        CHECK(s["training_state"] == "idle");
        CHECK(s["auto_recover"] == false);
        CHECK(s["watched_units"] == Json::array({kWatchedUnit}));
        CHECK(s["units"].size() == 1);
        CHECK_FALSE(s["version"].get<std::string>().empty());
        CHECK(s["failure_count"] == 0);
        CHECK(s["last_action"].is_null());
        CHECK(s["cpu"].get<double>() >= 0.0);
        CHECK(s["memory"].get<double>() > 0.0);
        CHECK(s["cpu_history"].size() == s["memory_history"].size());
        CHECK(s["cpu_history"].size() <= 50);

        const RunResult text = healctl({"status"});
        INFO(text.describe());
        CHECK(text.exit_code == 0);
        CHECK(text.out.find("healthy") != std::string::npos);
        CHECK(text.out.find("CPU") != std::string::npos);
        CHECK(has_sparkline(text.out));
        CHECK(text.out.find(kWatchedUnit) != std::string::npos);
    }
    SECTION("metrics") {
        const RunResult result = healctl({"metrics", "--json", "--limit", "4"});
        const Json m = json_of(result);
        CHECK(result.exit_code == 0);
        CHECK(m["status"] == "Healthy");
        REQUIRE(m["metrics"].size() == 4);
        for (const Json& p : m["metrics"]) {
            CHECK(is_iso8601_utc(p["timestamp"]));
            CHECK(p["cpu"].is_number());
            CHECK(p["memory"].is_number());
            CHECK(p["status"] == "Healthy");
            CHECK((p["unit"] == "" || p["unit"] == kWatchedUnit));
        }
        CHECK(m["metrics"][0]["timestamp"] <= m["metrics"][3]["timestamp"]);  // the newest four, oldest first

        const RunResult text = healctl({"metrics", "-n", "2"});
        INFO(text.describe());
        CHECK(text.exit_code == 0);
        CHECK(text.out.find("TIME") != std::string::npos);
    }
    SECTION("actions start empty") {
        const RunResult actions = healctl({"actions", "--json"});
        CHECK(actions.exit_code == 0);
        CHECK(json_of(actions) == Json::array());
        CHECK(healctl({"actions"}).exit_code == 0);  // summary: incidents_test.cpp
    }
    SECTION("detect judges given values without recording them") {
        const RunResult high = healctl({"detect", "--json", "--cpu", "99.5", "--memory", "99.5"});
        const Json d = json_of(high);
        CHECK(high.exit_code == 0);
        CHECK(d["detected"] == true);
        CHECK(d["status"] == "Failed");
        REQUIRE(d["verdicts"].size() >= 2);
        CHECK(d["verdicts"][0]["metric"] == "cpu_original");
        CHECK(d["verdicts"][0]["value"] == 99.5);
        CHECK(d["verdicts"][0]["anomalous"] == true);
        CHECK(d["verdicts"][0]["threshold"].get<double>() < 99.5);
        CHECK_FALSE(d["verdicts"][0]["reason"].get<std::string>().empty());
        CHECK(d["verdicts"][1]["metric"] == "memory_original");

        const RunResult low = healctl({"detect", "--json", "--cpu", "1", "--memory", "1"});
        const Json quiet = json_of(low);
        CHECK(quiet["verdicts"][0]["anomalous"] == false);
        CHECK(quiet["verdicts"][1]["anomalous"] == false);
        CHECK(status_of()["health"] == "healthy");  // detect recorded nothing

        const RunResult text = healctl({"detect"});
        CHECK(text.exit_code == 0);
        CHECK(text.out.find("SIGNAL") != std::string::npos);
    }
    SECTION("policy shows what recover would run and why each other action would not") {
        const RunResult result = healctl({"policy", "--json"});
        const Json p = json_of(result);
        CHECK(result.exit_code == 0);
        CHECK(p["policy"] == "ladder");
        CHECK(p["target"] == "");  // nothing failed: the machine
        CHECK(p["incident"]["state"] == "none");
        double sum = 0.0;
        for (const std::string& action : kActions) {
            REQUIRE(p["actions"].contains(action));
            sum += p["actions"][action]["probability"].get<double>();
        }
        CHECK(std::abs(sum - 1.0) < 1e-3);
        CHECK(p["chosen"] == "restart");  // the ladder's first rung; the simulated backend can act on the machine
        CHECK(p["actions"]["do_nothing"]["candidate"] == false);
        CHECK(p["actions"]["do_nothing"]["excluded"] == "the ladder policy never chooses it");
        const RunResult text = healctl({"policy"});
        CHECK(text.exit_code == 0);
        CHECK_THAT(text.out, Catch::Contains("Would run restart") && Catch::Contains("no: the ladder policy never"));
        const RunResult unknown = healctl({"policy", "--unit", "nope.service"});
        CHECK(unknown.exit_code != 0);
        CHECK_THAT(unknown.err, Catch::Contains("nope.service is not a watched unit"));
    }
}

TEST_CASE("recover refuses healthy targets and unknown units, and runs on a failure", "[daemon]") {
    DaemonEnvironment env;

    SECTION("recover while healthy is exit 1 and runs nothing") {
        const RunResult result = healctl({"recover", "--json"});
        INFO(result.describe());
        CHECK(result.exit_code == 1);
        CHECK(result.out.empty());
        CHECK(result.err.find("nothing to recover") != std::string::npos);
        CHECK(json_of(healctl({"actions", "--json"})).empty());
    }
    SECTION("an unknown unit is exit 2") {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"recover", "--unit", "nosuch.service"},
              std::vector<std::string>{"simulate-failure", "--unit", "nosuch.service"}}) {
            const RunResult result = healctl(args);
            INFO(result.describe());
            CHECK(result.exit_code == 2);
            CHECK(result.err.find("nosuch.service") != std::string::npos);
        }
    }
    SECTION("a watched unit's state in status follows its failure and recovery") {
        const auto unit_state = [] { return status_of()["units"].at(0)["state"].get<std::string>(); };
        REQUIRE(eventually([&] { return unit_state() == "healthy"; }));
        CHECK(status_of()["units"].size() == 1);
        CHECK(status_of()["units"][0]["unit"] == kWatchedUnit);
        // The limits it is judged against: the simulated unit's MemoryMax, and nothing else set.
        CHECK(status_of()["units"][0]["memory_max"] == 512ull * 1024 * 1024);
        CHECK(status_of()["units"][0]["memory_high"].is_null());
        CHECK(status_of()["units"][0]["cpu_quota"].is_null());
        REQUIRE(healctl({"simulate-failure", "--unit", kWatchedUnit}).exit_code == 0);
        REQUIRE(eventually([&] { return unit_state() == "failed"; }));
        const std::string text = healctl({"status"}).out;
        INFO(text);
        CHECK(text.find(fmt::format("  {:<24} failed (MemoryMax 512M)\n", kWatchedUnit)) != std::string::npos);
        REQUIRE(healctl({"recover", "--unit", kWatchedUnit, "--action", "restart"}).exit_code == 0);
        CHECK(eventually([&] { return unit_state() == "healthy"; }));
    }
    SECTION("a unit failure kind without a unit is exit 2") {
        const RunResult result = healctl({"simulate-failure", "--kind", "crash"});
        INFO(result.describe());
        CHECK(result.exit_code == 2);
    }
    SECTION("simulate a failure, see it, recover it, find it in actions and summary") {
        const RunResult injected = healctl({"simulate-failure", "--json"});
        const Json i = json_of(injected);
        REQUIRE(injected.exit_code == 0);
        CHECK_FALSE(i["status"].get<std::string>().empty());
        CHECK(i["kind"] == "synthetic");
        REQUIRE(eventually([] { return status_of()["health"] == "failed"; }));
        CHECK(status_of()["failure_count"].get<int>() >= 1);

        const RunResult recovered = healctl({"recover", "--json", "--action", "restart"});
        const Json r = json_of(recovered);
        CHECK(r["action"] == "restart");
        CHECK(r["unit"] == "");
        CHECK(r["result"] == "recovered");
        CHECK(recovered.exit_code == 0);
        const double recovery_time = r["recovery_time"].get<double>();
        CHECK(recovery_time > 0.0);
        CHECK(r["reward"].get<double>() == Approx(std::max(2.0, 10.0 - 2.0 * recovery_time)));
        CHECK(r["detail"].is_string());

        const Json actions = json_of(healctl({"actions", "--json"}));
        REQUIRE(actions.size() == 1);
        check_action_shape(actions[0]);
        CHECK(actions[0]["action"] == "restart");
        CHECK(actions[0]["result"] == r["result"]);

        const Json summary = json_of(healctl({"summary", "--json"}));
        CHECK(summary["total_actions"] == 1);
        CHECK(summary["successes"] == 1);
        CHECK(summary["failures"] == 0);

        const Json s = status_of();
        REQUIRE(s["last_action"].is_object());
        CHECK(s["last_action"]["action"] == "restart");
    }
    SECTION("a unit failure kind acts on the watched unit once it opts in and healerd reloads") {
        std::filesystem::create_directory(env.dir.path() / "units.d");
        write_file(env.dir.path() / "units.d" / fmt::format("{}.conf", kWatchedUnit),
                   "[Unit]\nAllowFaultInjection=yes\n");
        env.healerd.process().signal(SIGHUP);
        RunResult result;
        CHECK(eventually([&] {
            result = healctl({"simulate-failure", "--kind", "crash", "--unit", kWatchedUnit});
            return result.exit_code == 0;
        }));
        INFO(result.describe());
        CHECK(result.out.find("simulated crash injected") != std::string::npos);
    }
}

TEST_CASE("is-failed answers with its exit status, like systemctl is-failed", "[daemon]") {
    DaemonEnvironment env;
    wait_for_samples(5);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"is-failed"}, std::vector<std::string>{"is-failed", kWatchedUnit}}) {
        const RunResult healthy = healctl(args);
        INFO(healthy.describe());
        CHECK(healthy.exit_code == 1);
        CHECK(healthy.out == "healthy\n");
        CHECK(healthy.err.empty());
    }
    const RunResult quiet = healctl({"is-failed", "--quiet"});
    CHECK(quiet.exit_code == 1);
    CHECK(quiet.out.empty());
    const RunResult unknown = healctl({"is-failed", "nosuch.service"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err == "healctl: nosuch.service is not a watched unit.\n");

    REQUIRE(healctl({"simulate-failure", "--unit", kWatchedUnit}).exit_code == 0);
    REQUIRE(eventually([] { return healctl({"is-failed", kWatchedUnit, "-q"}).exit_code == 0; }));
    const RunResult failed = healctl({"is-failed", kWatchedUnit});
    CHECK(failed.exit_code == 0);
    CHECK(failed.out == "failed\n");
    CHECK(healctl({"is-failed"}).exit_code == 0);
    const Json answer = json_of(healctl({"is-failed", kWatchedUnit, "--json"}));
    CHECK(answer == Json{{"unit", kWatchedUnit}, {"state", "failed"}, {"failed", true}});
}

TEST_CASE("states are coloured on a terminal only, never with NO_COLOR, --no-color, TERM=dumb or --json",
          "[daemon]") {
    DaemonEnvironment env;
    wait_for_samples(5);
    // script(1) gives healctl a terminal; ENV sets its environment.
    const auto on_terminal = [](const std::string& env, const std::string& args) {
        const RunResult result = run({SCRIPT_PATH, "-qec", fmt::format("env {} {} --user {}", env, HEALCTL_PATH, args),
                                      "/dev/null"});
        INFO(result.describe());
        CHECK(result.exit_code == 0);
        return result.out;
    };
    const std::string green_healthy = "\x1b[32mhealthy\x1b[0m";
    CHECK_THAT(on_terminal("TERM=xterm NO_COLOR=", "status"), Catch::Contains(green_healthy));
    CHECK_THAT(on_terminal("TERM=xterm NO_COLOR=1", "status"), !Catch::Contains("\x1b["));
    CHECK_THAT(on_terminal("TERM=xterm", "status --no-color"), !Catch::Contains("\x1b["));
    CHECK_THAT(on_terminal("TERM=dumb", "status"), !Catch::Contains("\x1b["));
    CHECK_THAT(on_terminal("TERM=xterm", "status --json"), !Catch::Contains("\x1b["));
    CHECK(healctl({"status"}).out.find('\x1b') == std::string::npos);  // a pipe

    // Coloured cells keep the table's columns aligned.
    std::string table = on_terminal("TERM=xterm", "metrics -n 1");
    table = table.substr(table.find('\n') + 1);  // after "Status: ..."
    const auto header = table.substr(0, table.find('\n'));
    const auto row = table.substr(table.find('\n') + 1);
    CHECK_THAT(row, Catch::Contains("\x1b[32mHealthy\x1b[0m"));
    INFO(table);
    const auto column = [](const std::string& line, std::size_t index) {
        // The visible column where the index-th word starts, escapes not counted.
        std::size_t visible = 0, word = 0;
        bool in_word = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '\x1b') { i = line.find('m', i); continue; }
            const bool space = line[i] == ' ';
            if (!space && !in_word && word++ == index) return visible;
            in_word = !space;
            ++visible;
        }
        return std::string::npos;
    };
    CHECK(column(header, 4) == column(row, 5));  // UNIT, after TIME (two words), CPU, MEMORY and STATUS
}

TEST_CASE("train reports progress, installs the model, and refuses a second run", "[daemon]") {
    DaemonEnvironment env;

    SECTION("train --json waits for the result") {
        const RunResult result = healctl({"train", "--json", "--episodes", "3"});
        const Json t = json_of(result);
        REQUIRE(result.exit_code == 0);
        CHECK(t["status"] == "finished");
        CHECK(t["success"] == true);
        CHECK(t["episodes"] == 3);
        CHECK(t["mean_reward"].is_number());
        CHECK_FALSE(t["message"].get<std::string>().empty());
        const Json s = status_of();
        CHECK(s["model_loaded"] == true);
        CHECK(s["policy"] == "ppo");
        CHECK(json_of(healctl({"policy", "--json"}))["policy"] == "ppo");
    }
    SECTION("train without --json prints progress lines") {
        const RunResult result = healctl({"train", "--episodes", "2"});
        INFO(result.describe());
        REQUIRE(result.exit_code == 0);
        CHECK(result.out.find("2/2") != std::string::npos);
        CHECK(result.out.find("Training finished") != std::string::npos);
    }
    SECTION("train while training is exit 1") {
        const RunResult started = healctl({"train", "--no-wait", "--json", "--episodes", "10000"});
        REQUIRE(started.exit_code == 0);
        CHECK(json_of(started) == Json{{"status", "started"}, {"episodes", 10000}});
        CHECK(status_of()["training_state"] == "running");
        for (const std::vector<std::string>& args : {std::vector<std::string>{"train", "--episodes", "5"},
                                                     std::vector<std::string>{"train", "--no-wait"}}) {
            const RunResult second = healctl(args);
            INFO(second.describe());
            CHECK(second.exit_code == 1);
            CHECK(second.err.find("already running") != std::string::npos);
        }
    }
}

// Starting maps much of healerd's binary and libraries that its loop never
// runs, and training fills the heap; both are given back, so RSS shows what
// the loop holds. (A start maps ~8.5 MiB and the loop ~5.5: 1 MiB is a margin.)
TEST_CASE("healerd gives back the memory its start and a training needed", "[daemon]") {
    DaemonEnvironment env;
    const pid_t pid = env.healerd.process().pid();
    REQUIRE(eventually([&] { return rss_below_peak(pid, 1024); }, 10s));
    const long after_start = status_kib(pid, "VmRSS");

    // Training maps its own code and ~2 MiB of it stays mapped unless given
    // back. healctl returns on the TrainingFinished signal, sent before the
    // release: wait for it.
    REQUIRE(healctl({"train", "--episodes", "20"}).exit_code == 0);
    eventually([&] { return status_kib(pid, "VmRSS") <= after_start + 1536; }, 10s);
    INFO("VmRSS after start " << after_start << " kB, after training " << status_kib(pid, "VmRSS") << " kB");
    CHECK(status_kib(pid, "VmRSS") <= after_start + 1536);
}

TEST_CASE("healerd gives back the memory a recovery needed once its incident closes", "[daemon][incident]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config() + kAutoRecover);
    const pid_t pid = healerd.process().pid();
    REQUIRE(eventually([&] { return rss_below_peak(pid, 1024); }, 10s));
    // The loop's own pages and a healctl answer's mapped again (right after
    // the release at start, RSS can read as little as 1.2 MiB).
    REQUIRE(healctl({"incidents", "--json"}).exit_code == 0);
    std::this_thread::sleep_for(1s);
    const long after_start = status_kib(pid, "VmRSS");

    // A recovery (executor, validation, the incident's storage) maps about
    // 1 MiB the loop does not use again; the incident's close gives it back.
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually(
        [] {
            const Json incidents = json_of(healctl({"incidents", "--json"}));
            return !incidents.empty() && incidents.front()["outcome"] == "resolved";
        },
        60s));
    INFO("VmRSS after start " << after_start << " kB, after the incident " << status_kib(pid, "VmRSS") << " kB");
    CHECK(status_kib(pid, "VmRSS") <= after_start + 512);
}

TEST_CASE("a model with a weight beyond the bound is refused and the policy in use is kept", "[daemon]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    // A 7-4-4 model with a valid checksum whose first weight is 3.4e38: once
    // accepted, and every probability was NaN.
    std::filesystem::create_directories(dir.path() / "state");
    std::filesystem::copy_file(std::filesystem::path(HEAL_FIXTURES_DIR) / "fuzz/model/huge-weight.model",
                               dir.path() / "state/policy.model");
    Healerd healerd(dir.path());
    CHECK_THAT(healerd.log(), Catch::Contains("policy.model: actor weight 3.4e+38 at layer 1 (parameter 0) is beyond "
                                              "the bound 1e+04; using the default ladder"));
    const Json s = status_of();
    CHECK(s["policy"] == "ladder");
    CHECK(s["model_loaded"] == false);
    const Json p = json_of(healctl({"policy", "--json"}));
    CHECK(p["policy"] == "ladder");
    double sum = 0.0;
    for (const std::string& action : kActions) {
        const Json& probability = p["actions"][action]["probability"];
        REQUIRE(probability.is_number());  // a NaN would be null
        CHECK(probability.get<double>() >= 0.0);
        sum += probability.get<double>();
    }
    CHECK(std::abs(sum - 1.0) < 1e-3);
}

TEST_CASE("watch refreshes until SIGINT and exits 0", "[daemon]") {
    DaemonEnvironment env;
    const auto out = env.dir.path() / "watch.out";
    BackgroundProcess watch({HEALCTL_PATH, "--user", "watch", "--json"}, out);
    // A 200 ms sample interval changes properties several times a second.
    REQUIRE(eventually([&] { return json_lines_of(read_file(out)).size() >= 3; }));
    watch.signal(SIGINT);
    CHECK(watch.wait(10s) == 0);
    for (const Json& frame : json_lines_of(read_file(out))) {
        CHECK(frame["health"].is_string());
        CHECK(frame["cpu_history"].is_array());
    }

    const auto text_out = env.dir.path() / "watch.txt";
    BackgroundProcess text({HEALCTL_PATH, "--user", "watch"}, text_out);
    REQUIRE(eventually([&] { return read_file(text_out).find("Last action") != std::string::npos; }));
    text.signal(SIGTERM);
    CHECK(text.wait(10s) == 0);
    CHECK(read_file(text_out).find("\x1b[") == std::string::npos);  // no ANSI codes off a terminal
}

TEST_CASE("a D-Bus policy refusal is exit 1 saying root or the healerd group is needed", "[daemon]") {
    DaemonEnvironment env(BusPolicy{.deny_mutating = true});
    wait_for_samples(1);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"recover"}, std::vector<std::string>{"train", "--episodes", "1"},
          std::vector<std::string>{"simulate-failure"}}) {
        const RunResult result = healctl(args);
        INFO(result.describe());
        CHECK(result.exit_code == 1);
        CHECK(result.err.find("root or as a member of the healerd group") != std::string::npos);
    }
    CHECK(healctl({"summary"}).exit_code == 0);  // reading stays open to everyone
}

TEST_CASE("healctl sees healerd exit during training", "[daemon]") {
    DaemonEnvironment env;
    BackgroundProcess train({HEALCTL_PATH, "--user", "train", "--episodes", "10000"}, env.dir.path() / "train.out");
    REQUIRE(eventually([] { return status_of()["training_state"] == "running"; }));
    env.healerd.process().stop();
    CHECK(train.wait(30s) == 1);
    // Either healerd announced the cancelled run on its way out, or it was gone first.
    const std::string said = train.log_text();
    INFO(said);
    CHECK((said.find("training cancelled") != std::string::npos ||
           said.find("healerd exited before training finished") != std::string::npos));
}
