// One policy for a fleet: export-incidents on a host, train --from on the
// exports of several, and the model shipped back and taken up on reload with
// its provenance shown by healctl policy.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"
#include "storage/store.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void write_text(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }

// Three ended crash incidents of the watched unit (a restart relapsed, then a
// rollback held), one on the machine given up after a failed restart, and one
// left open (healerd closes it as interrupted when it starts).
void seed(const std::filesystem::path& state) {
    std::filesystem::create_directories(state);
    heal::Store store(state / "healerd.db");
    const heal::TimePoint t0 = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 1h;
    const auto attempt = [&](heal::TimePoint at, heal::Action action, bool recovered, bool relapsed,
                             const heal::IncidentRecord& incident) {
        heal::ActionRecord record;
        record.timestamp = at;
        record.action = action;
        record.recovered = recovered;
        record.relapsed = relapsed;
        if (recovered) record.recovery_time = 3.0;
        record.reward = heal::recovery_reward(recovered, 3.0);
        record.unit = incident.unit;
        record.failure_kind = incident.failure_kind;
        record.incident_id = incident.id;
        store.add_action(record);
    };
    for (int i = 0; i < 3; ++i) {
        heal::IncidentRecord incident;
        incident.unit = kWatchedUnit;
        incident.failure_kind = heal::FailureKind::crash;
        incident.opened = t0 + std::chrono::minutes(10 * i);
        incident.closed = incident.opened + 3min;
        incident.healthy_since = incident.opened + 1min;
        incident.outcome = heal::IncidentOutcome::resolved;
        incident.attempts = 2;
        incident.relapses = 1;
        incident.id = store.open_incident(incident);
        attempt(incident.opened + 1s, heal::Action::restart, true, true, incident);
        attempt(incident.opened + 30s, heal::Action::rollback, true, false, incident);
    }
    heal::IncidentRecord given_up;
    given_up.opened = t0 + 40min;
    given_up.closed = given_up.opened + 2min;
    given_up.outcome = heal::IncidentOutcome::given_up;
    given_up.attempts = 1;
    given_up.id = store.open_incident(given_up);
    attempt(given_up.opened + 1s, heal::Action::restart, false, false, given_up);
    heal::IncidentRecord open;
    open.unit = kWatchedUnit;
    open.opened = t0 + 50min;
    store.open_incident(open);
}

struct FleetEnvironment {
    FleetEnvironment() : bus(dir.path()), healerd((seed(dir.path() / "state"), dir.path())) {}
    TempDir dir;
    PrivateBus bus;
    Healerd healerd;
};

}  // namespace

TEST_CASE("incidents exported on hosts train one model, which a host takes up on reload with its provenance",
          "[daemon][fleet]") {
    FleetEnvironment env;
    const RunResult exported = healctl({"export-incidents"});
    INFO(exported.describe());
    REQUIRE(exported.exit_code == 0);
    const auto lines = lines_of(exported.out);
    REQUIRE(lines.size() == 5);
    const Json first = Json::parse(lines[0]);
    CHECK(first["format"] == 1);
    CHECK_FALSE(first["host"].get<std::string>().empty());
    CHECK(first["incident"]["id"] == 1);
    CHECK(first["incident"]["failure_kind"] == "crash");
    REQUIRE(first["attempts"].size() == 2);
    CHECK(first["attempts"][0]["action"] == "restart");
    CHECK(first["attempts"][0]["result"] == "relapsed");
    CHECK(first["attempts"][0]["incident_id"] == 1);
    CHECK(first["attempts"][1]["result"] == "recovered");
    CHECK(Json::parse(lines[3])["attempts"][0]["result"] == "failed");
    CHECK(Json::parse(lines[4])["incident"]["outcome"] == "interrupted");
    CHECK(lines_of(healctl({"export-incidents", "--unit", "machine"}).out).size() == 1);

    // A second host's export: the same incidents under another name.
    const auto here = env.dir.path() / "here.jsonl";
    const auto there = env.dir.path() / "there.jsonl";
    write_text(here, exported.out);
    std::string other;
    for (const std::string& line : lines) {
        Json document = Json::parse(line);
        document["host"] = "db-7";
        other += document.dump() + "\n";
    }
    write_text(there, other);

    const auto model = env.dir.path() / "fleet.model";
    const RunResult trained = healctl({"train", "--from", here.string(), there.string(), here.string(), "--output",
                                       model.string(), "--episodes", "2", "--seed", "5"});
    INFO(trained.describe());
    REQUIRE(trained.exit_code == 0);
    // The file given twice adds nothing: 5 incidents and 7 attempts a host.
    CHECK_THAT(trained.out, Catch::Contains("Provenance: trained by healctl train --from on ") &&
                                Catch::Contains(" from 2 hosts (") && Catch::Contains("db-7") &&
                                Catch::Contains("10 incidents, 14 attempts"));

    std::filesystem::copy_file(model, env.dir.path() / "state" / "policy.model");
    env.healerd.reconfigure(test_config());
    REQUIRE(eventually([] { return status_of()["policy"] == "ppo"; }, 10s));
    const RunResult policy = healctl({"policy"});
    CHECK_THAT(policy.out, Catch::Contains("Model     trained by healctl train --from on ") &&
                               Catch::Contains("10 incidents, 14 attempts"));
    const Json view = json_of(healctl({"policy", "--json"}));
    CHECK(view["model_provenance"]["hosts"].size() == 2);
    CHECK(view["model_provenance"]["episodes"] == 2);
    CHECK(view["model_provenance"]["seed"] == 5);
    CHECK(view["model_provenance"]["calibration"]["crash"]["rollback"]["attempts"] == 6);
    CHECK_THAT(env.healerd.log(), Catch::Contains("(trained by healctl train --from on "));
}

TEST_CASE("train --from refuses what it cannot learn from, naming the file and line", "[daemon][fleet]") {
    TempDir dir;
    const auto bad = dir.path() / "bad.jsonl";
    write_text(bad, "{\"format\": 1, \"host\": \"a\", \"incident\": {\"id\": 1, \"failure_kind\": null}, "
                    "\"attempts\": []}\nnot json\n");
    const auto model = dir.path() / "m.model";
    const RunResult refused = healctl({"train", "--from", bad.string(), "--output", model.string()});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains(bad.string() + ":2: not a JSON object."));
    CHECK_FALSE(std::filesystem::exists(model));

    write_text(bad, "{\"format\": 2, \"host\": \"a\"}\n");
    CHECK_THAT(healctl({"train", "--from", bad.string(), "--output", model.string()}).err,
               Catch::Contains(":1: format 2 (this healctl reads format 1)."));
    write_text(bad, "{\"format\": 1, \"host\": \"a\", \"incident\": {\"id\": 1, \"failure_kind\": null}, "
                    "\"attempts\": [{\"action\": \"restart\", \"result\": \"dry_run\", \"recovery_time\": null}]}\n");
    CHECK_THAT(healctl({"train", "--from", bad.string(), "--output", model.string()}).err,
               Catch::Contains("no finished attempt in " + bad.string() + ": nothing to learn from."));
    CHECK(healctl({"train", "--from", bad.string()}).exit_code == 2);  // no --output
    CHECK(healctl({"train", "--output", model.string()}).exit_code == 2);  // no --from
    CHECK(healctl({"train", "--from", (dir.path() / "missing.jsonl").string(), "--output", model.string()})
              .exit_code == 2);
}
