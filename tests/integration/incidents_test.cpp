// Incidents through healerd: the summary's incident figures and GetIncidents,
// over a database written through the Store before healerd starts (healerd
// itself opens incidents only for failures, which these tests do not cause).
#include <filesystem>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"
#include "storage/store.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

RunResult busctl_call(const std::string& method, const std::vector<std::string>& arguments = {}) {
    std::vector<std::string> args{BUSCTL_PATH, "--user", "call", "org.healerd.Healer1", "/org/healerd/Healer1",
                                  "org.healerd.Healer1", method};
    args.insert(args.end(), arguments.begin(), arguments.end());
    return run(args);
}

heal::ActionRecord attempt(heal::TimePoint time, heal::Action action, std::optional<double> recovery_time,
                           std::int64_t incident_id) {
    heal::ActionRecord record;
    record.timestamp = time;
    record.action = action;
    record.recovered = recovery_time.has_value();
    record.recovery_time = recovery_time;
    record.reward = heal::recovery_reward(record.recovered, recovery_time.value_or(0.0));
    record.unit = kWatchedUnit;
    record.incident_id = incident_id;
    return record;
}

heal::IncidentRecord closed_incident(std::string unit, heal::TimePoint opened, heal::TimePoint closed,
                                     heal::IncidentOutcome outcome, std::int32_t attempts) {
    heal::IncidentRecord record;
    record.unit = std::move(unit);
    record.opened = opened;
    record.closed = closed;
    record.outcome = outcome;
    record.attempts = attempts;
    return record;
}

// Four incidents, oldest first: resolved after a relapsed restart and a
// scale_up that held (20 s to durable health), given up on the machine,
// a dry run, and one healerd was stopped in. Recent, so retention keeps them.
void seed(const std::filesystem::path& state) {
    using heal::IncidentOutcome;
    std::filesystem::create_directories(state);
    heal::Store store(state / "healerd.db");
    const heal::TimePoint t0 = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 10min;

    heal::IncidentRecord resolved = closed_incident(kWatchedUnit, t0, t0 + 80s, IncidentOutcome::resolved, 2);
    resolved.failure_kind = heal::FailureKind::crash;
    resolved.healthy_since = t0 + 20s;
    resolved.relapses = 1;
    resolved.detail = "restart relapsed; scale_up held";
    resolved.id = store.open_incident(resolved);
    heal::ActionRecord relapsed = attempt(t0 + 1s, heal::Action::restart, 2.0, resolved.id);
    relapsed.relapsed = true;
    store.add_action(relapsed);
    store.add_action(attempt(t0 + 15s, heal::Action::scale_up, 4.0, resolved.id));

    heal::IncidentRecord given_up = closed_incident("", t0 + 100s, t0 + 160s, IncidentOutcome::given_up, 1);
    given_up.detail = "nothing healed it";
    given_up.id = store.open_incident(given_up);
    heal::ActionRecord failed = attempt(t0 + 101s, heal::Action::do_nothing, std::nullopt, given_up.id);
    failed.unit = "";
    store.add_action(failed);

    heal::IncidentRecord dry_run = closed_incident(kWatchedUnit, t0 + 200s, t0 + 230s, IncidentOutcome::dry_run, 1);
    dry_run.healthy_since = t0 + 210s;
    dry_run.id = store.open_incident(dry_run);
    heal::ActionRecord would = attempt(t0 + 201s, heal::Action::restart, std::nullopt, dry_run.id);
    would.phase = heal::AttemptPhase::dry_run;
    store.add_action(would);

    store.open_incident(closed_incident(kWatchedUnit, t0 + 300s, t0 + 310s, IncidentOutcome::interrupted, 1));
}

const std::filesystem::path& seeded(const TempDir& dir) {
    seed(dir.path() / "state");
    return dir.path();
}

// healerd on a seeded database.
struct SeededEnvironment {
    SeededEnvironment() : bus(dir.path()), healerd(seeded(dir)) {}
    TempDir dir;
    PrivateBus bus;
    Healerd healerd;
};

}  // namespace

TEST_CASE("summary gives the incident figures, and MTTR only once something was resolved", "[daemon][incidents]") {
    SECTION("an empty history has no MTTR, not 0") {
        DaemonEnvironment env;
        const RunResult summary = healctl({"summary", "--json"});
        CHECK(summary.exit_code == 0);
        CHECK(json_of(summary) == Json{{"total_actions", 0},  {"successes", 0},
                                       {"failures", 0},       {"success_rate", 0.0},
                                       {"avg_mttr", nullptr}, {"incidents", 0},
                                       {"resolved", 0},       {"given_up", 0},
                                       {"resolved_rate", nullptr}, {"attempts_per_incident", nullptr},
                                       {"relapses", 0},       {"mttr", nullptr},
                                       {"self_resolved", 0}});
        const RunResult text = healctl({"summary"});
        INFO(text.describe());
        CHECK(text.exit_code == 0);
        CHECK(contains(text.out, "MTTR                   -\n\nIncidents              0\n"));
        CHECK(contains(text.out, "Attempts per incident  -\nRelapses               0\nMTTR                   -\n"));
        const RunResult raw = busctl_call("GetSummary");
        INFO(raw.describe());
        CHECK(contains(raw.out, "(tttdd)a{sv} 0 0 0 0 -1 5 \"incidents\" t 0 "));  // five counts, no means
        CHECK(contains(text.out, "Passed on their own    0 (no action taken: not counted above)\n"));
        CHECK_FALSE(contains(raw.out, "\"mttr\""));
    }
    SECTION("a seeded history") {
        SeededEnvironment env;
        const Json s = json_of(healctl({"summary", "--json"}));
        CHECK(s["total_actions"] == 3);  // the dry run is no outcome
        CHECK(s["successes"] == 1);      // the relapsed restart is no success
        CHECK(s["failures"] == 2);
        CHECK(s["success_rate"].get<double>() == Approx(100.0 / 3));
        CHECK(s["avg_mttr"] == 4.0);
        CHECK(s["incidents"] == 4);
        CHECK(s["resolved"] == 1);
        CHECK(s["given_up"] == 1);
        CHECK(s["resolved_rate"] == 50.0);
        CHECK(s["attempts_per_incident"] == 1.5);
        CHECK(s["relapses"] == 1);
        CHECK(s["mttr"] == 20.0);

        const RunResult text = healctl({"summary"});
        INFO(text.describe());
        CHECK(contains(text.out, "MTTR                   4.00 s\n"));
        CHECK(contains(text.out, "Incidents              4\nResolved               1 (50.0%)\n"
                                 "Given up               1\nAttempts per incident  1.50\n"
                                 "Relapses               1\nMTTR                   20.00 s\n"));
        const RunResult raw = busctl_call("GetSummary");
        INFO(raw.describe());
        CHECK(contains(raw.out, "\"mttr\" d 20"));
        CHECK(contains(raw.out, "\"attempts_per_incident\" d 1.5"));

        std::vector<std::string> results;
        for (const Json& a : json_of(healctl({"actions", "--json"}))) results.push_back(a["result"]);
        CHECK(results == std::vector<std::string>{"relapsed", "recovered", "failed", "dry_run"});
    }
}

TEST_CASE("incidents lists them oldest first", "[daemon][incidents]") {
    SeededEnvironment env;
    const RunResult result = healctl({"incidents", "--json"});
    const Json list = json_of(result);
    CHECK(result.exit_code == 0);
    REQUIRE(list.size() == 4);
    std::vector<std::string> outcomes;
    for (const Json& i : list) outcomes.push_back(i["outcome"]);
    CHECK(outcomes == std::vector<std::string>{"resolved", "given_up", "dry_run", "interrupted"});
    const Json& resolved = list[0];
    CHECK(resolved["id"] == 1);
    CHECK(resolved["unit"] == kWatchedUnit);
    CHECK(resolved["failure_kind"] == "crash");
    CHECK(is_iso8601_utc(resolved["opened"]));
    CHECK(is_iso8601_utc(resolved["closed"]));
    CHECK(is_iso8601_utc(resolved["healthy_since"]));
    CHECK(resolved["opened"] < resolved["healthy_since"]);
    CHECK(resolved["time_to_recover"] == 20.0);
    CHECK(resolved["attempts"] == 2);
    CHECK(resolved["relapses"] == 1);
    CHECK(resolved["detail"] == "restart relapsed; scale_up held");
    const Json& given_up = list[1];
    CHECK(given_up["unit"] == "");
    CHECK(given_up["failure_kind"].is_null());
    CHECK(given_up["healthy_since"].is_null());
    CHECK(given_up["time_to_recover"].is_null());

    CHECK(json_of(healctl({"incidents", "--json", "--limit", "1"})) == Json::array({list[3]}));
    const RunResult text = healctl({"incidents", "-n", "4"});
    INFO(text.describe());
    CHECK(text.exit_code == 0);
    CHECK(contains(text.out, "OUTCOME"));
    CHECK(contains(text.out, "20.00 s"));
    CHECK(contains(text.out, "nothing healed it"));
}

TEST_CASE("GetIncidents refuses a limit outside 1-10000, naming it", "[daemon][incidents]") {
    DaemonEnvironment env;
    for (const char* limit : {"0", "10001", "4294967295"}) {
        const RunResult refused = busctl_call("GetIncidents", {"u", limit});
        INFO(refused.describe());
        CHECK(refused.exit_code != 0);
        CHECK(contains(refused.err, fmt::format("limit must be 1-10000 (got {})", limit)));
    }
    const RunResult empty = busctl_call("GetIncidents", {"u", "10000"});
    INFO(empty.describe());
    CHECK(empty.exit_code == 0);
    CHECK(contains(empty.out, "a(tssstttuus) 0"));
    for (const char* limit : {"0", "-1"}) {
        const RunResult usage = healctl({"incidents", "--limit", limit});
        INFO(usage.describe());
        CHECK(usage.exit_code == 2);
        CHECK(usage.out.empty());
    }
    const RunResult none = healctl({"incidents"});
    CHECK(none.exit_code == 0);
    CHECK(none.out == "No incidents yet.\n");
    CHECK(json_of(healctl({"incidents", "--json"})) == Json::array());
}
