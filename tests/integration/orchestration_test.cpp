// The daemon's orchestration end to end, with every simulated outcome fixed
// ([Simulation] HealChance= 1 or 0, a fixed Seed=): automatic recovery, the
// circuit breaker, SIGHUP, SIGTERM during a recovery, store outages during
// ticks, and retention on its schedule.
#include <signal.h>

#include <algorithm>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
    return count;
}

Json actions() { return json_of(healctl({"actions", "--json"})); }  // oldest first

Json newest_incident() {
    const Json incidents = json_of(healctl({"incidents", "--json"}));
    return incidents.empty() ? Json() : incidents.back();
}

bool logged(const Healerd& healerd, const std::string& text) { return contains(healerd.log(), text); }

// Injects a synthetic failure into the machine and waits until healerd sees it.
void fail_machine() {
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] { return status_of()["health"] == "failed"; }));
}

// Fails the machine and starts `healctl recover --json --action restart`,
// which goes on while the test does; returns once healerd has stored the
// attempt as running (it does so before the action runs).
std::future<RunResult> restart_in_progress() {
    fail_machine();
    auto pending = std::async(std::launch::async, [] { return healctl({"recover", "--json", "--action", "restart"}); });
    REQUIRE(eventually([] {
        const Json stored = actions();
        return stored.size() == 1 && stored[0]["result"] == "running";
    }));
    return pending;
}

// The threshold the machine's CPU detector applies now.
double machine_cpu_threshold() {
    const Json verdicts = json_of(healctl({"detect", "--json", "--cpu", "1"}))["verdicts"];
    REQUIRE(verdicts[0]["metric"] == "cpu_original");
    return verdicts[0]["threshold"].get<double>();
}

// The Health property, as busctl prints it: read without the store.
std::string health_property() {
    return run({BUSCTL_PATH, "--user", "get-property", "org.healerd.Healer1", "/org/healerd/Healer1",
                "org.healerd.Healer1", "Health"})
        .out;
}

}  // namespace

TEST_CASE("an injected failure is recovered automatically, and the attempt is stored with its result",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config(1.0) + kAutoRecover);
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    // Without automatic recovery the synthetic fault would fade after 60 samples (12 s).
    REQUIRE(eventually([] { return newest_incident()["outcome"] == "resolved"; }, 10s));

    const Json stored = actions();
    REQUIRE(stored.size() == 1);
    const Json& a = stored[0];
    INFO(a.dump());
    // High memory on the machine: the ladder's first rung is scale_up, and every simulated action heals.
    CHECK(a["action"] == "scale_up");
    CHECK(a["result"] == "recovered");
    CHECK(a["unit"] == "");
    CHECK(a["failure_kind"] == "memory_leak");
    const double recovery_time = a["recovery_time"].get<double>();
    CHECK(recovery_time > 0.0);
    CHECK(a["reward"].get<double>() == Approx(std::max(2.0, 10.0 - 2.0 * recovery_time)));

    const Json incident = newest_incident();
    CHECK(incident["unit"] == "");
    CHECK(incident["attempts"] == 1);
    CHECK(incident["relapses"] == 0);
    const Json summary = json_of(healctl({"summary", "--json"}));
    CHECK(summary["total_actions"] == 1);
    CHECK(summary["successes"] == 1);
    CHECK(summary["failures"] == 0);
    CHECK(summary["resolved"] == 1);
    CHECK(logged(healerd, "recovering the machine with scale_up (memory_leak, attempt 1): "));
    CHECK(status_of()["health"] == "healthy");
}

TEST_CASE("the circuit breaker opens after a burst of failures, refuses automatic and manual recovery, "
          "and closes after its interval",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    // The interval leaves a loaded machine seconds to see the breaker open before it closes.
    Healerd healerd(dir.path(), test_config(0.0) + kAutoRecover +
                                    "RecoveryTimeoutSec=500ms\nMaxAttempts=10\nCircuitBreakerBurst=2\n"
                                    "CircuitBreakerIntervalSec=6s\n");
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] { return newest_incident()["outcome"] == "given_up"; }, 20s));

    // Two failed attempts, then the open breaker stopped the incident short of MaxAttempts.
    const Json incident = newest_incident();
    INFO(incident.dump());
    CHECK(incident["attempts"] == 2);
    CHECK(incident["detail"] == "2 unsuccessful attempts within 6s (circuit breaker open)");
    CHECK(logged(healerd, "giving up on the machine after 2 attempt(s): 2 unsuccessful attempts within 6s "
                          "(circuit breaker open)"));
    CHECK(logged(healerd, "circuit breaker for the machine opened: 2 unsuccessful attempts within 6s; no recovery "
                          "until it closes"));
    Json stored = actions();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0]["action"] == "scale_up");
    CHECK(stored[0]["result"] == "failed");
    CHECK(stored[1]["action"] == "restart");  // after scale_up, the ladder's next rung
    CHECK(stored[1]["result"] == "failed");
    CHECK(status_of()["health"] == "failed");

    const RunResult refused = healctl({"recover", "--json", "--action", "rollback"});
    INFO(refused.describe());
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    const std::string prefix = "healerd refused Recover: circuit breaker for the machine is open: 2 recoveries "
                               "failed within 6s; retry in ";
    REQUIRE(contains(refused.err, prefix));
    const int retry = std::stoi(refused.err.substr(refused.err.find(prefix) + prefix.size()));
    CHECK(retry >= 1);
    CHECK(retry <= 6);
    CHECK(actions().size() == 2);

    // Once the interval has passed since the burst, the breaker lets the operator act again.
    std::this_thread::sleep_for(std::chrono::seconds(retry));
    REQUIRE(eventually([&] { return logged(healerd, "circuit breaker for the machine closed"); }, 5s));
    const RunResult ran = healctl({"recover", "--json", "--action", "rollback"});
    const Json r = json_of(ran);
    CHECK(ran.exit_code == 1);
    CHECK(r["action"] == "rollback");
    CHECK(r["result"] == "failed");
    // Oldest first, after the two of the given-up incident; the operator's
    // recover opened a new incident, whose automatic attempts may follow it.
    stored = actions();
    REQUIRE(stored.size() >= 3);
    const Json& operators = stored[2];
    CHECK(operators["action"] == "rollback");
    CHECK(operators["result"] == "failed");
}

TEST_CASE("SIGHUP applies a valid configuration: units, detector and recovery settings", "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path());
    // Once warmed up, the machine's quiet CPU puts its threshold at Floor=50.
    REQUIRE(eventually([] { return machine_cpu_threshold() == 50.0; }));

    healerd.reconfigure(test_config() + "[Monitor]\nUnits=second.service\n[Detector]\nFloor=97\n"
                                        "[Recovery]\nAutoRecover=yes\n");
    REQUIRE(eventually([] { return status_of()["watched_units"].size() == 2; }));
    const Json s = status_of();
    CHECK(s["watched_units"] == Json::array({kWatchedUnit, "second.service"}));
    CHECK(s["auto_recover"] == true);
    CHECK(machine_cpu_threshold() == 97.0);
    CHECK(logged(healerd, "configuration reloaded from " + healerd.config_file().string()));
    // The new unit is sampled.
    CHECK(eventually([] {
        const Json metrics = json_of(healctl({"metrics", "--json", "--limit", "10"}))["metrics"];
        return std::any_of(metrics.begin(), metrics.end(), [](const Json& m) { return m["unit"] == "second.service"; });
    }));
}

TEST_CASE("SIGHUP with an invalid file keeps the running configuration and logs why", "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path());
    const std::string bad = test_config() + "[Monitor]\nUnits=second.service\n[Recovery]\nAutoRecover=maybe\n";
    const auto line = std::count(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(bad.find("AutoRecover=maybe")),
                                 '\n') + 1;
    healerd.reconfigure(bad);
    REQUIRE(eventually([&] { return logged(healerd, "configuration not reloaded"); }));
    CHECK(logged(healerd, fmt::format("configuration not reloaded, keeping the running one: {}:{}: [Recovery] "
                                      "AutoRecover=maybe: must be a boolean",
                                      healerd.config_file().string(), line)));
    CHECK_FALSE(logged(healerd, "configuration reloaded from"));
    const Json s = status_of();
    CHECK(s["watched_units"] == Json::array({kWatchedUnit}));
    CHECK(s["auto_recover"] == false);
    CHECK(healerd.process().running());
}

TEST_CASE("a reload during a recovery: the recovery completes and is stored, then the new configuration applies",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config(0.0) + "[Recovery]\nRecoveryTimeoutSec=2s\n");
    auto pending = restart_in_progress();

    // Every simulated action heals from now on, and a second unit is watched.
    healerd.reconfigure(test_config(1.0) + "[Monitor]\nUnits=second.service\n");
    REQUIRE(eventually([] { return status_of()["watched_units"].size() == 2; }));

    // The running recovery finishes with the dice it started with: it fails.
    const RunResult first = pending.get();
    const Json r = json_of(first);
    CHECK(first.exit_code == 1);
    CHECK(r["action"] == "restart");
    CHECK(r["result"] == "failed");
    const std::string log = healerd.log();
    const auto reloaded = log.find("configuration reloaded from");
    const auto finished = log.find("restart of the machine: failed");
    REQUIRE(reloaded != std::string::npos);
    REQUIRE(finished != std::string::npos);
    CHECK(reloaded < finished);

    // The next recovery runs under the new configuration: it heals.
    const RunResult second = healctl({"recover", "--json", "--action", "restart"});
    CHECK(second.exit_code == 0);
    CHECK(json_of(second)["result"] == "recovered");
    const Json stored = actions();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0]["action"] == "restart");
    CHECK(stored[0]["result"] == "failed");
    CHECK(stored[1]["result"] == "recovered");
}

TEST_CASE("SIGTERM during a recovery: the caller is told, the attempt is stored as interrupted, exit 0",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    // Validation would wait 30 s: SIGTERM cuts it short.
    Healerd healerd(dir.path(), test_config(0.0) + "[Recovery]\nRecoveryTimeoutSec=30s\n");
    auto pending = restart_in_progress();

    const auto stopped = std::chrono::steady_clock::now();
    healerd.process().signal(SIGTERM);
    CHECK(healerd.process().wait(10s) == 0);
    CHECK(std::chrono::steady_clock::now() - stopped < 5s);
    const RunResult caller = pending.get();
    INFO(caller.describe());
    CHECK(caller.exit_code == 1);
    CHECK(caller.out.empty());
    CHECK(contains(caller.err, "healerd refused Recover: recovery abandoned: healerd is shutting down."));
    CHECK(logged(healerd, "recovery of the machine abandoned: healerd is shutting down"));

    Database database(healerd.database());
    CHECK(database.integer("SELECT count(*) FROM actions") == 1);
    CHECK(database.text("SELECT action || ' ' || phase || ': ' || detail FROM actions") ==
          "restart interrupted: healerd is shutting down");
    CHECK(database.text("SELECT outcome || ': ' || detail FROM incidents") == "interrupted: healerd stopped");
}

// The kill -9 soak checks this too, over many kills; this is the one case, fast.
TEST_CASE("SIGKILL during a recovery: the attempt stored before it ran is closed as interrupted at the next start",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    const std::string config = test_config(0.0) + "[Recovery]\nRecoveryTimeoutSec=30s\n";
    auto killed = std::make_unique<Healerd>(dir.path(), config);
    auto pending = restart_in_progress();
    killed->process().signal(SIGKILL);
    REQUIRE(killed->process().wait(10s) == 128 + SIGKILL);
    CHECK(pending.get().exit_code == 1);
    const auto database_file = killed->database();
    CHECK(Database(database_file).text("SELECT action || ' ' || phase FROM actions") == "restart running");

    killed.reset();
    Healerd restarted(dir.path(), config);
    CHECK(Database(database_file).text("SELECT action || ' ' || phase FROM actions") == "restart interrupted");
    CHECK(logged(restarted, "1 recovery attempt(s) were still running when healerd last stopped"));
}

TEST_CASE("a store outage during ticks is logged once, healerd keeps running, and it stores again once it can",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config() + "[Storage]\nWriteIntervalSec=0\n");
    Database database(healerd.database());
    const auto stored_samples = [&] { return database.integer("SELECT count(*) FROM metrics"); };
    REQUIRE(eventually([&] { return stored_samples() > 0; }));

    // Another connection takes the table away: every write fails, as on a full disk.
    database.exec("ALTER TABLE metrics RENAME TO metrics_away");
    REQUIRE(eventually([&] { return logged(healerd, "cannot store samples: "); }));
    const std::int64_t away = database.integer("SELECT count(*) FROM metrics_away");
    // Ticks go on: the detectors still see the machine. (healctl status
    // would fail: it reads the sample history.)
    CHECK(health_property() == "s \"healthy\"\n");
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    CHECK(eventually([] { return health_property() == "s \"failed\"\n"; }));
    CHECK(healerd.process().running());

    database.exec("ALTER TABLE metrics_away RENAME TO metrics");
    REQUIRE(eventually([&] { return logged(healerd, "storing samples works again; "); }));
    const std::string log = healerd.log();
    CHECK(occurrences(log, "cannot store samples: ") == 1);  // once per outage, not once a tick
    std::smatch lost;
    REQUIRE(std::regex_search(log, lost, std::regex(R"(storing samples works again; (\d+) sample\(s\) could not be stored)")));
    CHECK(std::stoi(lost[1]) >= 2);  // at least one tick: the machine and the unit
    CHECK(eventually([&] { return stored_samples() > away; }));
    CHECK(healerd.process().running());
}

TEST_CASE("retention trims the tables to MaxRows= on its schedule, while healerd runs", "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config() + "[Monitor]\nSampleIntervalSec=100ms\n[Storage]\nWriteIntervalSec=0\n"
                                                "MaxRows=20\n");
    Database database(healerd.database());
    // The newest 20 samples and nothing else, after `inserted` were stored.
    const auto trimmed_after = [&](std::int64_t inserted) {
        return database.integer("SELECT count(*) FROM metrics") == 20 &&
               database.integer("SELECT max(id) FROM metrics") >= inserted &&
               database.integer("SELECT max(id) - min(id) FROM metrics") == 19;
    };
    REQUIRE(eventually([&] { return trimmed_after(40); }, 15s));
    // Not only once: two ticks (a tenth of MaxRows=) later, it trims again.
    const std::int64_t newest = database.integer("SELECT max(id) FROM metrics");
    CHECK(eventually([&] { return trimmed_after(newest + 40); }, 15s));
}

TEST_CASE("the same [Simulation] Seed= gives the same recovery outcomes", "[daemon][orchestration]") {
    // Eight recoveries that heal with chance 0.5, each on a freshly injected
    // failure; a heal is seen within a sample or two (100 ms each).
    const auto outcomes = [] {
        TempDir dir;
        PrivateBus bus(dir.path());
        Healerd healerd(dir.path(), test_config() + "[Monitor]\nSampleIntervalSec=100ms\n[Detector]\nConsecutive=1\n"
                                                    "[Recovery]\nRecoveryTimeoutSec=750ms\n"
                                                    "[Simulation]\nHealChance=do_nothing:0.5\n");
        std::vector<std::string> results;
        for (int i = 0; i < 8; ++i) {
            fail_machine();
            results.push_back(json_of(healctl({"recover", "--json", "--action", "do_nothing"}))["result"]);
        }
        return results;
    };
    const std::vector<std::string> first = outcomes();
    INFO(fmt::format("{}", fmt::join(first, " ")));
    CHECK(outcomes() == first);
    // Both outcomes occur with this seed: the dice were rolled, not fixed.
    CHECK(std::count(first.begin(), first.end(), "recovered") > 0);
    CHECK(std::count(first.begin(), first.end(), "failed") > 0);
}

TEST_CASE("RetrainAfter= retrains once that many incidents have closed, and keeps the better policy",
          "[daemon][orchestration]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), test_config(1.0) + kAutoRecover + "[Learning]\nRetrainAfter=2\nRetrainEpisodes=5\n");
    const auto resolve_one = [](std::size_t count) {
        REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
        REQUIRE(eventually([count] {
            const Json incidents = json_of(healctl({"incidents", "--json"}));
            return incidents.size() == count && incidents.back()["outcome"] == "resolved";
        }));
    };
    resolve_one(1);
    std::this_thread::sleep_for(1s);
    CHECK_FALSE(logged(healerd, "retraining the policy"));  // one closed incident of two

    resolve_one(2);
    REQUIRE(eventually([&] { return logged(healerd, "retrained policy: "); }));
    CHECK(logged(healerd, "2 incident(s) closed since the last training: retraining the policy"));
    const std::string log = healerd.log();
    const std::smatch verdict = [&] {
        std::smatch match;
        std::regex_search(log, match,
                          std::regex("the new model scores (-?[0-9.]+) and the ladder policy in use (-?[0-9.]+) "
                                     "over the same 2000 calibrated incidents; the (new model is adopted|policy in "
                                     "use is kept)"));
        return match;
    }();
    REQUIRE(!verdict.empty());
    const bool adopted = verdict[3] == "new model is adopted";
    CHECK(adopted == (std::stod(verdict[1]) >= std::stod(verdict[2])));
    CHECK(std::filesystem::exists(dir.path() / "state" / "policy.model") == adopted);
    REQUIRE(eventually([] { return status_of()["training_state"] == "idle"; }));
    CHECK(status_of()["policy"] == (adopted ? "ppo" : "ladder"));
}
