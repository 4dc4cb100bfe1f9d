// healerd's own gates, on a private bus whose policy allows everything: the
// caller check of the mutating methods, the opt-in for real fault injection,
// and the bounded cost of GetMetrics.
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// busctl call METHOD u LIMIT, as `uid` when it is not root.
RunResult get_by_busctl(const char* method, std::uint32_t limit, int uid = 0) {
    std::vector<std::string> args{BUSCTL_PATH, "--user", "--json=short", "call", "org.healerd.Healer1",
                                  "/org/healerd/Healer1", "org.healerd.Healer1", method, "u", std::to_string(limit)};
    if (uid != 0) {
        const std::string id = std::to_string(uid);
        args.insert(args.begin(), {SETPRIV_PATH, "--reuid=" + id, "--regid=" + id, "--clear-groups"});
    }
    return run(args);
}

RunResult get_metrics_by_busctl(std::uint32_t limit) { return get_by_busctl("GetMetrics", limit); }

// The timestamps of a GetMetrics answer, in its order; none when it failed.
std::vector<std::uint64_t> metric_timestamps(const RunResult& answer) {
    std::vector<std::uint64_t> timestamps;
    if (answer.exit_code != 0) return timestamps;
    const Json document = Json::parse(answer.out);
    for (const Json& row : document["data"][0]) timestamps.push_back(row[0].get<std::uint64_t>());
    return timestamps;
}

}  // namespace

TEST_CASE("healerd itself refuses the mutating methods to other users, and logs it", "[daemon][access]") {
    DaemonEnvironment env;  // the bus policy lets everyone call everything
    REQUIRE(eventually([] { return healctl({"metrics", "--limit", "1"}).exit_code == 0; }));

    for (const auto& [args, method] :
         {std::pair{std::vector<std::string>{"recover", "--action", "restart"}, "Recover"},
          std::pair{std::vector<std::string>{"train", "--episodes", "1"}, "Train"},
          std::pair{std::vector<std::string>{"simulate-failure"}, "SimulateFailure"},
          std::pair{std::vector<std::string>{"simulate-failure", "--kind", "crash", "--unit", kWatchedUnit},
                    "SimulateFailure"},
          std::pair{std::vector<std::string>{"pause", kWatchedUnit}, "Pause"},
          std::pair{std::vector<std::string>{"resume", kWatchedUnit}, "Resume"}}) {
        const RunResult result = healctl_as_nobody(args);
        INFO(result.describe());
        CHECK(result.exit_code == 1);
        CHECK(contains(result.err, "root or as a member of the healerd group"));
        CHECK(contains(env.healerd.log(), fmt::format("refused {} from uid {}", method, kNobody)));
    }
    // Nothing ran: no recovery, no training, no injected failure, no pause.
    CHECK(json_of(healctl({"actions", "--json"})).empty());
    const Json status = json_of(healctl({"status", "--json"}));
    CHECK(status["paused"].empty());
    CHECK(status["training_state"] == "idle");
    CHECK(status["health"] == "healthy");

    // Reading stays open to everyone.
    for (const char* command : {"status", "metrics", "actions", "incidents", "summary", "policy"}) {
        const RunResult result = healctl_as_nobody({command});
        INFO(result.describe());
        CHECK(result.exit_code == 0);
    }
    // Root may (and so may healerd's own uid: here both are root).
    CHECK(healctl({"simulate-failure"}).exit_code == 0);
}

TEST_CASE("real faults need the unit's opt-in, the synthetic kind works on any target", "[daemon][access]") {
    DaemonEnvironment env;
    const std::string opt_in = (env.dir.path() / "units.d" / fmt::format("{}.conf", kWatchedUnit)).string();

    for (const char* kind : {"cpu_runaway", "memory_leak", "crash", "hang"}) {
        const RunResult result = healctl({"simulate-failure", "--kind", kind, "--unit", kWatchedUnit});
        INFO(result.describe());
        CHECK(result.exit_code == 1);
        CHECK(result.out.empty());
        CHECK(contains(result.err, fmt::format("{} does not allow real fault injection", kWatchedUnit)));
        CHECK(contains(result.err, fmt::format("create {} with \"[Unit] AllowFaultInjection=yes\"", opt_in)));
        CHECK(contains(result.err, "reload healerd"));
    }
    const RunResult busctl = run({BUSCTL_PATH, "--user", "call", "org.healerd.Healer1", "/org/healerd/Healer1",
                                  "org.healerd.Healer1", "SimulateFailure", "ss", "hang", kWatchedUnit});
    INFO(busctl.describe());
    CHECK(busctl.exit_code != 0);
    CHECK(contains(busctl.err, "does not allow real fault injection"));

    for (const std::string& unit : {std::string(kWatchedUnit), std::string()}) {
        const RunResult synthetic = healctl({"simulate-failure", "--kind", "synthetic", "--unit", unit});
        INFO(synthetic.describe());
        CHECK(synthetic.exit_code == 0);
        CHECK(contains(synthetic.out, "synthetic failure injected"));
    }
}

TEST_CASE("GetMetrics answers queued samples without writing them, and ListMetrics writes them first",
          "[daemon][access]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    // Nothing is written for an hour, except the first tick (retention runs then).
    Healerd healerd(dir.path(), test_config() + "\n[Storage]\nWriteIntervalSec=1h\n");
    Database database(healerd.database());  // as another process sees it
    const auto stored_samples = [&] { return database.integer("SELECT count(*) FROM metrics"); };

    REQUIRE(eventually([] { return metric_timestamps(get_metrics_by_busctl(10000)).size() >= 20; }));
    const std::int64_t before = stored_samples();
    const std::vector<std::uint64_t> answer = metric_timestamps(get_metrics_by_busctl(10000));
    CHECK(stored_samples() == before);
    // The answer holds the queued ticks as well as the stored one, newest first.
    CHECK(answer.size() > static_cast<std::size_t>(before));
    CHECK(std::is_sorted(answer.rbegin(), answer.rend()));

    // An export pages by row id: the queued ticks must have theirs.
    const RunResult exported = healctl({"metrics", "--limit", "all", "--since", "-1h", "--format", "csv"});
    REQUIRE(exported.exit_code == 0);
    CHECK(stored_samples() >= static_cast<std::int64_t>(answer.size()));
}

TEST_CASE("GetMetrics has a maximum limit and a per-user rate limit", "[daemon][access]") {
    DaemonEnvironment env;
    REQUIRE(eventually([] { return healctl({"metrics", "--limit", "1"}).exit_code == 0; }));

    SECTION("a limit above 10000 is refused, naming the range") {
        const RunResult refused = get_metrics_by_busctl(10001);
        INFO(refused.describe());
        CHECK(refused.exit_code != 0);
        CHECK(contains(refused.err, "limit must be 1-10000 (got 10001)"));
        CHECK(get_metrics_by_busctl(10000).exit_code == 0);
    }
    SECTION("another user reading in a loop is told when to retry; the owner is not limited") {
        std::optional<RunResult> limited;
        for (int call = 0; call < 40 && !limited; ++call) {
            RunResult result = get_by_busctl("GetMetrics", 10000, kNobody);
            if (result.exit_code != 0) limited = std::move(result);
        }
        REQUIRE(limited);
        INFO(limited->describe());
        CHECK(contains(limited->err, "rate limited"));
        CHECK(contains(limited->err, "retry in"));
        // GetActions and GetIncidents draw on the same budget.
        for (const char* method : {"GetActions", "GetIncidents"}) {
            const RunResult same_budget = get_by_busctl(method, 10000, kNobody);
            INFO(same_budget.describe());
            CHECK(contains(same_budget.err, "rate limited"));
        }
        // Logged once for the spell, not once per refused call.
        const std::string log = env.healerd.log();
        const std::string line = fmt::format("rate limiting GetMetrics from uid {}", kNobody);
        CHECK(contains(log, line));
        CHECK(log.find(line) == log.rfind(line));

        for (int call = 0; call < 10; ++call) REQUIRE(get_metrics_by_busctl(10000).exit_code == 0);
        // The budget refills: a small read works again within a few seconds.
        CHECK(eventually([] { return get_by_busctl("GetMetrics", 10, kNobody).exit_code == 0; }, 10s));
    }
}

TEST_CASE("the shipped D-Bus policy lets everyone call every method but the mutating ones", "[daemon][access]") {
    DaemonEnvironment env;
    const RunResult introspected = run({BUSCTL_PATH, "--user", "introspect", "org.healerd.Healer1",
                                        "/org/healerd/Healer1", "org.healerd.Healer1"});
    INFO(introspected.describe());
    REQUIRE(introspected.exit_code == 0);
    std::set<std::string> read_only;
    std::istringstream lines(introspected.out);
    for (std::string name, kind, rest; lines >> name >> kind && std::getline(lines, rest);)
        if (kind == "method") read_only.insert(name.substr(1));  // ".GetMetrics"
    for (const char* mutating : kMutatingMethods) CHECK(read_only.erase(mutating) == 1);
    REQUIRE(read_only.size() >= 6);

    std::ifstream file(std::filesystem::path(HEAL_FIXTURES_DIR) / "../../systemd/org.healerd.Healer1.conf");
    REQUIRE(file);
    const std::string policy{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    const std::string everyone = policy.substr(policy.find("<policy context=\"default\">"));
    for (const std::string& method : read_only) {
        INFO(method);
        CHECK(contains(everyone, fmt::format("send_interface=\"org.healerd.Healer1\" send_member=\"{}\"", method)));
    }
    for (const char* mutating : kMutatingMethods) CHECK_FALSE(contains(everyone, mutating));
}
