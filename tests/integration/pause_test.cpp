// Maintenance pauses (healctl pause/resume): a paused target is sampled and
// shown but gets no action, the pause survives a restart of healerd, and one
// with a duration ends on its own.
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Json paused() { return status_of()["paused"]; }
std::size_t stored_actions() { return json_of(healctl({"actions", "--json"})).size(); }

}  // namespace

TEST_CASE("a paused target gets no action until resumed, and the pause survives a restart", "[daemon][pause]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    std::optional<Healerd> healerd(std::in_place, dir.path(), test_config(1.0) + kAutoRecover);

    const RunResult paused_now = healctl({"pause"});
    INFO(paused_now.describe());
    REQUIRE(paused_now.exit_code == 0);
    CHECK(contains(paused_now.out, "the machine paused until resumed"));
    REQUIRE(paused().size() == 1);
    CHECK(paused()[0]["unit"] == "");
    CHECK(paused()[0]["until"].is_null());
    CHECK(contains(healctl({"status"}).out, "Paused        the machine until resumed (no action taken)"));

    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] { return status_of()["health"] == "failed"; }));
    std::this_thread::sleep_for(2s);  // ten ticks with AutoRecover on and no backoff
    CHECK(stored_actions() == 0);
    const RunResult refused = healctl({"recover"});
    INFO(refused.describe());
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "the machine is paused (until resumed); resume it first"));
    CHECK(stored_actions() == 0);

    healerd.reset();
    healerd.emplace(dir.path(), test_config(1.0) + kAutoRecover);
    REQUIRE(paused().size() == 1);
    CHECK(paused()[0]["unit"] == "");

    const RunResult resumed = healctl({"resume"});
    INFO(resumed.describe());
    REQUIRE(resumed.exit_code == 0);
    CHECK(contains(resumed.out, "the machine resumed: healerd acts on its failures again"));
    CHECK(paused().empty());
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] {
        const Json stored = json_of(healctl({"actions", "--json"}));
        return stored.size() == 1 && stored[0]["result"] == "recovered";
    }, 10s));
}

TEST_CASE("a pause with a duration ends on its own", "[daemon][pause]") {
    DaemonEnvironment env;
    const RunResult result = healctl({"pause", kWatchedUnit, "--for", "2s"});
    INFO(result.describe());
    REQUIRE(result.exit_code == 0);
    CHECK(contains(result.out, std::string(kWatchedUnit) + " paused until "));
    REQUIRE(paused().size() == 1);
    CHECK(paused()[0]["unit"] == kWatchedUnit);
    CHECK(is_iso8601_utc(paused()[0]["until"]));
    CHECK(paused()[0]["paused_by"] == getuid());

    REQUIRE(eventually([] { return paused().empty(); }, 10s));
    CHECK(contains(env.healerd.log(), fmt::format("the pause of {} ended: healerd acts on its failures again",
                                                  kWatchedUnit)));
}

TEST_CASE("pause and resume refuse what they cannot do, naming it", "[daemon][pause]") {
    DaemonEnvironment env;
    // Arguments healerd refuses are usage errors, as for every command.
    const RunResult unknown = healctl({"pause", "nosuch.service"});
    CHECK(unknown.exit_code == 2);
    CHECK(contains(unknown.err, "nosuch.service is not a watched unit"));
    const RunResult not_paused = healctl({"resume", kWatchedUnit});
    CHECK(not_paused.exit_code == 2);
    CHECK(contains(not_paused.err, std::string(kWatchedUnit) + " is not paused"));
    for (const char* duration : {"0", "soon", "500ms"}) {
        const RunResult bad = healctl({"pause", "--for", duration});
        INFO(bad.describe());
        CHECK(bad.exit_code == 2);
        CHECK(contains(bad.err, fmt::format("'{}'", duration)));
    }
    const RunResult too_long = run({BUSCTL_PATH, "--user", "call", "org.healerd.Healer1", "/org/healerd/Healer1",
                                    "org.healerd.Healer1", "Pause", "st", "", "315360001"});
    CHECK(too_long.exit_code != 0);
    CHECK(contains(too_long.err, "a pause of 315360001s is longer than ten years"));
    CHECK(paused().empty());
}
