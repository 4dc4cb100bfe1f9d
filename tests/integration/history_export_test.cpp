// History export: healctl metrics, actions and incidents with --since,
// --until, --unit, --limit and --format, paging through ListMetrics,
// ListActions and ListIncidents past the 10000 rows a call may return.
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"
#include "storage/store.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

RunResult busctl_call(const std::string& method, const std::vector<std::string>& arguments) {
    std::vector<std::string> args{BUSCTL_PATH, "--user", "call", "org.healerd.Healer1", "/org/healerd/Healer1",
                                  "org.healerd.Healer1", method};
    args.insert(args.end(), arguments.begin(), arguments.end());
    return run(args);
}

// kSamples ticks one second apart ending a minute ago: on each, the machine
// (cpu = the tick's number) and the watched unit (cpu 50). More than six
// pages of ListMetrics, and more than a non-admin caller's burst of rows.
constexpr int kTicks = 30000;
const heal::TimePoint kLastTick = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 1min;

heal::TimePoint tick_time(int tick) { return kLastTick - std::chrono::seconds(kTicks - 1 - tick); }

// Three incidents on the unit, a minute apart, each with its attempt, and
// one on the machine; the last unit one's detail needs quoting in CSV.
void seed(const std::filesystem::path& state) {
    std::filesystem::create_directories(state);
    heal::Store store(state / "healerd.db");
    std::vector<heal::MetricRecord> batch;
    for (int tick = 0; tick < kTicks; ++tick) {
        heal::MetricRecord machine;
        machine.timestamp = tick_time(tick);
        machine.cpu = tick;
        machine.memory = 30;
        heal::MetricRecord unit = machine;
        unit.unit = kWatchedUnit;
        unit.cpu = 50;
        batch.push_back(machine);
        batch.push_back(unit);
    }
    store.add_metrics(batch);
    for (int i = 0; i < 4; ++i) {
        heal::IncidentRecord incident;
        incident.unit = i == 3 ? "" : kWatchedUnit;
        incident.opened = kLastTick - std::chrono::minutes(10 - i);
        incident.closed = incident.opened + 30s;
        incident.healthy_since = incident.opened + 10s;
        incident.outcome = heal::IncidentOutcome::resolved;
        incident.attempts = 1;
        incident.detail = i == 2 ? "restart, then \"healthy\", at last" : "restart";
        incident.id = store.open_incident(incident);
        heal::ActionRecord attempt;
        attempt.timestamp = incident.opened + 1s;
        attempt.action = heal::Action::restart;
        attempt.recovered = true;
        attempt.recovery_time = 2.5;
        attempt.reward = heal::recovery_reward(true, 2.5);
        attempt.unit = incident.unit;
        attempt.incident_id = incident.id;
        store.add_action(attempt);
    }
}

struct ExportEnvironment {
    ExportEnvironment() : bus(dir.path()), healerd((seed(dir.path() / "state"), dir.path())) {}
    TempDir dir;
    PrivateBus bus;
    Healerd healerd;
};

std::string at(heal::TimePoint time) {
    return fmt::format("@{}", std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count());
}

}  // namespace

TEST_CASE("metrics exports every stored sample of a target in time order, past one call's 10000 rows",
          "[daemon][export]") {
    ExportEnvironment env;
    const RunResult all = healctl({"metrics", "--unit", "machine", "--limit", "all", "--format", "csv"});
    INFO(all.err);
    REQUIRE(all.exit_code == 0);
    const auto lines = lines_of(all.out);
    REQUIRE(lines.size() >= kTicks + 1);  // and the ticks healerd sampled since it started
    CHECK(lines[0] == "timestamp,unit,cpu,memory,status");
    for (int tick : {0, 9999, 10000, kTicks - 1}) {
        INFO("tick " << tick);
        CHECK_THAT(lines[static_cast<std::size_t>(tick) + 1], Catch::EndsWith(fmt::format(",,{},30,Healthy", tick)));
    }
    // Time order throughout, with no row twice.
    std::vector<std::string> times;
    for (std::size_t i = 1; i < lines.size(); ++i) times.push_back(lines[i].substr(0, lines[i].find(',')));
    CHECK(std::is_sorted(times.begin(), times.end()));

    SECTION("a time range, and the newest N of it") {
        const RunResult range = healctl({"metrics", "--unit", "machine", "--since", at(tick_time(100)), "--until",
                                         at(tick_time(110)), "--format", "csv"});
        REQUIRE(range.exit_code == 0);
        const auto rows = lines_of(range.out);
        REQUIRE(rows.size() == 11);
        CHECK_THAT(rows[1], Catch::EndsWith(",,100,30,Healthy"));
        CHECK_THAT(rows[10], Catch::EndsWith(",,109,30,Healthy"));  // --until is excluded
        const RunResult newest = healctl({"metrics", "--unit", "machine", "--until", at(tick_time(110)), "-n", "3",
                                          "--json"});
        const Json document = json_of(newest);
        REQUIRE(document["metrics"].size() == 3);
        CHECK(document["metrics"][0]["cpu"] == 107);  // the newest three, oldest first
        CHECK(document["metrics"][2]["cpu"] == 109);
    }
    SECTION("the CSV replays as it is, one target's column at a time") {
        const RunResult unit = healctl({"metrics", "--unit", kWatchedUnit, "--since", at(tick_time(0)), "--until",
                                        at(tick_time(500)), "--format", "csv"});
        REQUIRE(unit.exit_code == 0);
        const RunResult replayed = healctl({"replay", "--column", "cpu", "-"}, unit.out);
        INFO(replayed.describe());
        CHECK(replayed.exit_code == 0);
        CHECK(lines_of(replayed.out).size() == 501);  // header and 500 judged rows
        CHECK_THAT(lines_of(replayed.out)[1], Catch::EndsWith(",50,0"));
        const RunResult both = healctl({"metrics", "--since", at(tick_time(0)), "--until", at(tick_time(2)),
                                        "--format", "csv"});
        const RunResult mixed = healctl({"replay", "--column", "cpu", "-"}, both.out);
        CHECK(mixed.exit_code == 1);
        CHECK_THAT(mixed.err, Catch::Contains("a replay judges one target's rows"));
    }
    SECTION("another user's export waits for its read budget instead of failing") {
        const RunResult nobody = healctl_as_nobody({"metrics", "-n", "all", "--since", at(tick_time(0)),
                                                     "--format", "csv"});
        INFO(nobody.err);
        CHECK(nobody.exit_code == 0);
        CHECK(lines_of(nobody.out).size() >= 2 * kTicks + 1);  // and what healerd sampled since
        CHECK_THAT(nobody.err, Catch::Contains("limits how fast other users read its history; waiting"));
    }
}

TEST_CASE("actions and incidents export by unit and time in every format", "[daemon][export]") {
    ExportEnvironment env;
    const RunResult incidents = healctl({"incidents", "--unit", kWatchedUnit, "--format", "csv"});
    REQUIRE(incidents.exit_code == 0);
    const auto rows = lines_of(incidents.out);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] == "id,unit,failure_kind,outcome,opened,closed,healthy_since,recovery_seconds,attempts,relapses,"
                     "detail");
    CHECK_THAT(rows[1], Catch::StartsWith("1," + std::string(kWatchedUnit) + ",,resolved,"));
    CHECK_THAT(rows[3], Catch::EndsWith(",10,1,0,\"restart, then \"\"healthy\"\", at last\""));

    const Json machine = json_of(healctl({"incidents", "--unit", "machine", "--json"}));
    REQUIRE(machine.size() == 1);
    CHECK(machine[0]["id"] == 4);

    const Json since = json_of(healctl({"actions", "--since", at(kLastTick - 8min - 30s), "--json"}));
    REQUIRE(since.size() == 2);  // the attempts of the last two incidents
    CHECK(since[0]["unit"] == kWatchedUnit);
    CHECK(since[1]["unit"] == "");
    const RunResult csv = healctl({"actions", "--unit", "machine", "--format", "csv"});
    CHECK(lines_of(csv.out) == std::vector<std::string>{
                                   "timestamp,unit,action,result,reward,recovery_seconds,failure_kind,incident_id",
                                   fmt::format("{},,restart,recovered,{},2.5,,4", lines_of(csv.out)[1].substr(0, 24),
                                               heal::recovery_reward(true, 2.5))});
    // Streamed row by row, the JSON is still the document print_json indents.
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"incidents", "--json"}, {"actions", "--unit", "other.service", "--json"}, {"metrics", "-n", "2", "--json"}}) {
        const RunResult streamed = healctl(args);
        INFO(streamed.describe());
        CHECK(streamed.out == nlohmann::ordered_json::parse(streamed.out).dump(2) + "\n");
    }
    // --reverse: newest first, of every row or of the newest N.
    const Json reversed = json_of(healctl({"incidents", "--reverse", "--json"}));
    REQUIRE(reversed.size() == 4);
    CHECK(reversed[0]["id"] == 4);
    CHECK(json_of(healctl({"incidents", "-r", "-n", "2", "--json"})) == Json::array({reversed[0], reversed[1]}));
    const RunResult none = healctl({"actions", "--unit", "other.service"});
    CHECK(none.exit_code == 0);
    CHECK(none.out == "No recoveries match.\n");
}

TEST_CASE("the List methods refuse bad arguments, naming them", "[daemon][export]") {
    DaemonEnvironment env;
    CHECK_THAT(healctl({"metrics", "--format", "xml"}).err,
               Catch::Contains("--format: xml not in {table,json,csv}"));

    const RunResult unknown = busctl_call("ListMetrics", {"a{sv}tu", "1", "host", "s", "x", "0", "10"});
    CHECK(unknown.exit_code != 0);
    CHECK_THAT(unknown.err, Catch::Contains("unknown filter 'host' (since, until, unit, newest_first)"));
    const RunResult wrong_type = busctl_call("ListActions", {"a{sv}tu", "1", "since", "s", "yesterday", "0", "10"});
    CHECK_THAT(wrong_type.err, Catch::Contains("'since' must be microseconds since the epoch (t), not 's'"));
    const RunResult limit = busctl_call("ListIncidents", {"a{sv}tu", "0", "0", "10001"});
    CHECK_THAT(limit.err, Catch::Contains("limit must be 1-10000 (got 10001)"));
    const RunResult empty = busctl_call("ListIncidents", {"a{sv}tu", "0", "0", "10"});
    INFO(empty.describe());
    CHECK(empty.exit_code == 0);
    CHECK(contains(empty.out, "a(tssstttuus) 0"));
}
