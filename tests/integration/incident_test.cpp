// Incidents end to end on the simulated backend: opened by a failure, fed
// attempts, resolved once healthy for StableSec or given up, and stored.
#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

std::string incident_config(const std::string& recovery, double heal_chance = 1.0) {
    return fmt::format("{}[Recovery]\nAutoRecover=yes\nRecoveryTimeoutSec=1s\nStableSec=1s\nBackoffSec=1s\n{}",
                       test_config(heal_chance), recovery);
}

Json first_incident() {
    const Json incidents = json_of(healctl({"incidents", "--json"}));
    return incidents.empty() ? Json() : incidents.front();  // oldest first
}

bool closed(const Json& incident) { return incident.is_object() && incident["outcome"] != "open"; }

}  // namespace

TEST_CASE("a failure is one incident: attempts until it stays healthy, then resolved", "[daemon][incident]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), incident_config("MaxAttempts=100\n"));
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] { return closed(first_incident()); }, 90s));
    const Json incident = first_incident();
    INFO(incident.dump());
    CHECK(incident["unit"] == "");
    CHECK(incident["outcome"] == "resolved");
    CHECK(incident["attempts"] == 1);  // every simulated action heals
    CHECK(incident["healthy_since"].is_string());
    CHECK(incident["time_to_recover"].is_number());

    const Json actions = json_of(healctl({"actions", "--json"}));
    CHECK(actions.size() == incident["attempts"].get<std::size_t>());
    const Json summary = json_of(healctl({"summary", "--json"}));
    CHECK(summary["incidents"] == 1);
    CHECK(summary["resolved"] == 1);
    CHECK(summary["mttr"].is_number());
    CHECK_THAT(healerd.log(), Catch::Contains("incident resolved after"));
}

TEST_CASE("with nothing the policy may try, the incident is given up at once and nothing runs",
          "[daemon][incident]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    Healerd healerd(dir.path(), incident_config("AllowedActions=do_nothing\nOnGiveUp=page-oncall@.service\n"));
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] { return closed(first_incident()); }, 30s));
    const Json incident = first_incident();
    CHECK(incident["outcome"] == "given_up");
    // OnGiveUp=: the simulated backend names the alert it would start.
    const std::string alert =
        fmt::format("alert sent (OnGiveUp=): simulated: page-oncall@{}.service not started", incident["id"].dump());
    CHECK(eventually([&] { return healerd.log().find(alert) != std::string::npos; }, 10s));
    CHECK(incident["attempts"] == 0);
    CHECK_THAT(incident["detail"].get<std::string>(),
               Catch::Contains("nothing left to try (restart: not in AllowedActions=") &&
                   Catch::Contains("do_nothing: the ladder policy never chooses it"));
    CHECK(json_of(healctl({"actions", "--json"})).empty());
    CHECK_THAT(healerd.log(), Catch::Contains("giving up on the machine after 0 attempt(s)"));

    // Still failed, the target is left to the operator: no new incident opens.
    std::this_thread::sleep_for(2s);
    CHECK(json_of(healctl({"incidents", "--json"})).size() == 1);
    // The operator may still act on it; that is a new incident of its own.
    const RunResult requested = healctl({"recover", "--action", "do_nothing", "--json"});
    CHECK(json_of(requested)["action"] == "do_nothing");
    CHECK(json_of(healctl({"incidents", "--json"})).size() == 2);
}

TEST_CASE("policy --unit shows an open incident's escalation state", "[daemon][incident]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    // No simulated action heals: every attempt fails.
    Healerd healerd(dir.path(),
                    incident_config("AllowedActions=restart rollback\nBackoffSec=1h\nBackoffMaxSec=1h\n", 0.0));
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] {
        const Json p = json_of(healctl({"policy", "--json"}));
        return p["incident"]["attempts"].get<int>() >= 1 && p["incident"]["state"] != "attempting";
    }));
    const Json p = json_of(healctl({"policy", "--json"}));
    INFO(p.dump());
    CHECK(p["incident"]["state"] == "waiting");
    CHECK(p["incident"]["attempts"] == 1);
    // The ladder tried restart first: next is rollback, and the wait is the backoff.
    CHECK(p["chosen"] == "rollback");
    CHECK(p["actions"]["restart"]["excluded"] == "tried in this incident already");
    CHECK(p["actions"]["scale_up"]["excluded"] == "not in AllowedActions=");
    CHECK(p["incident"]["next_attempt_in"].get<double>() > 3000.0);
}
