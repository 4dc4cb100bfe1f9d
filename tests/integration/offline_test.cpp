// healctl without a running healerd: usage errors, an absent daemon or bus,
// and the commands that never need the daemon (replay, probe).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "environment.hpp"
#include "healctl.hpp"
#include "storage/store.hpp"

using namespace heal::integration;

TEST_CASE("bad arguments are usage errors (exit 2) caught before any bus is contacted", "[usage]") {
    TempDir dir;
    NoBus no_bus(dir.path());  // reaching for the bus would give exit 3, not 2
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"no-such-command"},
        {"status", "--no-such-option"},
        {"train", "--episodes", "-1"},
        {"train", "--episodes=-5"},
        {"train", "--episodes", "0"},
        {"train", "--episodes", "10001"},
        {"train", "--episodes", "99999999999999999999"},
        {"train", "--episodes", "many"},
        {"metrics", "--limit", "0"},
        {"metrics", "--limit", "-3"},
        {"actions", "--limit", "many"},
        {"actions", "--limit", "0"},
        {"incidents", "--format", "xml"},
        {"incidents", "--since", "yesterday-ish"},
        {"metrics", "--since", "-1h", "--until", "-2h"},
        {"metrics", "--json", "--format", "csv"},
        {"recover", "--action", "reboot"},
        {"detect", "--cpu", "150"},
        {"detect", "--memory", "-1"},
        {"simulate-failure", "--kind", "meteor"},
        {"replay", "--since", "last tuesday"},
        {"replay", "--until", "2024-13-45"},
        {"replay", "--since", "-1h", "--until", "-2h"},
        {"replay", "series.csv", "--since", "-1h"},
        {"replay", "-", "--database", "healerd.db"},
        {"replay", "--window", "5"},
        {"replay", "--column", "cpu"},
        {"probe", "--interval", "0"},
    };
    for (const auto& args : bad) {
        const RunResult result = healctl(args);
        INFO("healctl --user " << fmt::format("{}", fmt::join(args, " ")) << "\n" << result.describe());
        CHECK(result.exit_code == 2);
        CHECK(result.out.empty());
        // One sentence, as healctl(1) promises for every error.
        CHECK(result.err.starts_with("healctl: "));
        CHECK(result.err.ends_with(".\n"));
        CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    }
    const RunResult parse_error = healctl({"status", "--no-such-option"});
    CHECK(parse_error.err ==
          "healctl: The following argument was not expected: --no-such-option (see healctl status --help).\n");
}

TEST_CASE("--help and --version exit 0", "[usage]") {
    const RunResult help = healctl({"--help"});
    CHECK(help.exit_code == 0);
    // A command's help names the global options and the exit statuses too.
    const RunResult command_help = healctl({"recover", "--help"});
    CHECK(command_help.exit_code == 0);
    CHECK(command_help.out.find("Global options (before or after the command): --json, --user.") != std::string::npos);
    CHECK(command_help.out.find("Exit status: 0 done, 1 failed or refused, 2 usage error") != std::string::npos);
    for (const char* command : {"status", "watch", "metrics", "actions", "incidents", "summary", "detect", "recover",
                                "train", "simulate-failure", "policy", "replay", "probe"})
        CHECK(help.out.find(command) != std::string::npos);
    const RunResult version = healctl({"--version"});
    CHECK(version.exit_code == 0);
    CHECK_FALSE(version.out.empty());
}

TEST_CASE("every daemon command exits 3 and says how to start healerd when it is not running", "[absent]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    const std::vector<std::vector<std::string>> commands = {
        {"status"},         {"status", "--json"}, {"metrics"},  {"actions", "--json"}, {"incidents"}, {"summary"},
        {"detect"},         {"recover"},          {"train"},    {"train", "--no-wait"}, {"simulate-failure"},
        {"policy"},         {"watch"},            {"pause"},    {"resume"},            {"is-failed"},
    };
    for (const auto& args : commands) {
        const RunResult result = healctl(args);
        INFO("healctl --user " << fmt::format("{}", fmt::join(args, " ")) << "\n" << result.describe());
        CHECK(result.exit_code == 3);
        CHECK(result.out.empty());
        CHECK(result.err == "healctl: healerd is not running on the session bus; start it with `healerd --user`.\n");
    }
}

TEST_CASE("no session bus at all is exit 3 with the reason", "[absent]") {
    TempDir dir;
    NoBus no_bus(dir.path());
    const RunResult result = healctl({"status"});
    INFO(result.describe());
    CHECK(result.exit_code == 3);
    CHECK(result.err.find("session bus") != std::string::npos);
}

TEST_CASE("without --user healctl uses the system bus and says so", "[absent]") {
    TempDir dir;
    SECTION("no system bus") {
        ScopedEnv system_bus("DBUS_SYSTEM_BUS_ADDRESS", absent_bus_address(dir.path()));
        const RunResult result = run({HEALCTL_PATH, "status"});
        INFO(result.describe());
        CHECK(result.exit_code == 3);
        CHECK(result.err.find("system bus") != std::string::npos);
    }
    SECTION("a system bus without healerd") {
        PrivateBus bus(dir.path());
        ScopedEnv system_bus("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
        const RunResult result = run({HEALCTL_PATH, "summary"});
        INFO(result.describe());
        CHECK(result.exit_code == 3);
        CHECK(result.err ==
              "healctl: healerd is not running on the system bus; start it with `systemctl start healerd`.\n");
    }
}

namespace {

// 30 quiet values around 10, three spikes, then quiet again.
std::string spiky_csv() {
    std::string csv = "timestamp,value\n";
    for (int i = 0; i < 30; ++i) csv += fmt::format("2024-01-01T00:{:02}:00Z,{}\n", i, 10 + i % 3);
    for (int i = 30; i < 33; ++i) csv += fmt::format("2024-01-01T00:{:02}:00Z,95\n", i);
    csv += "2024-01-01T00:33:00Z,11\n";
    return csv;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(text.substr(start, end - start));
    return lines;
}

}  // namespace

TEST_CASE("replay marks the rows the detector flags, offline", "[replay]") {
    TempDir dir;
    NoBus no_bus(dir.path());  // replay must not need the bus
    const auto csv = dir.path() / "series.csv";
    write_file(csv, spiky_csv());

    SECTION("CSV out, one row per input row, the spikes flagged") {
        const RunResult result = healctl({"replay", csv.string(), "--consecutive", "1"});
        INFO(result.describe());
        REQUIRE(result.exit_code == 0);
        const auto lines = lines_of(result.out);
        REQUIRE(lines.size() == 35);
        CHECK(lines[0] == "timestamp,value,anomaly");
        CHECK(lines[1] == "2024-01-01T00:00:00Z,10,0");
        CHECK(lines[31] == "2024-01-01T00:30:00Z,95,1");
        CHECK(lines[33] == "2024-01-01T00:32:00Z,95,1");
        CHECK(lines[34] == "2024-01-01T00:33:00Z,11,0");
        for (std::size_t i = 1; i <= 30; ++i) CHECK(lines[i].ends_with(",0"));
    }
    SECTION("the consecutive rule delays the verdict") {
        const RunResult result = healctl({"replay", csv.string(), "--consecutive", "3"});
        REQUIRE(result.exit_code == 0);
        const auto lines = lines_of(result.out);
        REQUIRE(lines.size() == 35);
        CHECK(lines[31].ends_with(",0"));
        CHECK(lines[32].ends_with(",0"));
        CHECK(lines[33].ends_with(",1"));
    }
    SECTION("a floor above the spikes silences them") {
        const RunResult result = healctl({"replay", csv.string(), "--consecutive", "1", "--floor", "99"});
        REQUIRE(result.exit_code == 0);
        CHECK(result.out.find(",1\n") == std::string::npos);
    }
    SECTION("--json and standard input") {
        const RunResult result = healctl({"replay", "-", "--json", "--consecutive", "1"}, spiky_csv());
        const Json rows = json_of(result);
        REQUIRE(result.exit_code == 0);
        REQUIRE(rows.size() == 34);
        CHECK(rows[30] == Json{{"timestamp", "2024-01-01T00:30:00Z"}, {"value", 95.0}, {"anomaly", true}});
        CHECK(rows[0]["anomaly"] == false);
    }
    SECTION("a bad row is exit 1 naming file and line") {
        write_file(csv, "timestamp,value\n2024-01-01,10\n2024-01-02,ten\n");
        const RunResult result = healctl({"replay", csv.string()});
        INFO(result.describe());
        CHECK(result.exit_code == 1);
        CHECK(result.out.empty());
        CHECK(result.err.find(csv.string() + ": line 3:") != std::string::npos);
    }
    SECTION("a missing file is exit 2") {
        const RunResult result = healctl({"replay", (dir.path() / "absent.csv").string()});
        INFO(result.describe());
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("absent.csv") != std::string::npos);
    }
    SECTION("detector parameters the library rejects are exit 2") {
        const RunResult result = healctl({"replay", csv.string(), "--window", "5", "--min-samples", "6"});
        INFO(result.describe());
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("min_samples") != std::string::npos);
    }
    SECTION("detector options have healerd.conf's ranges") {
        const RunResult too_wide = healctl({"replay", csv.string(), "--window", "200000"});
        INFO(too_wide.describe());
        CHECK(too_wide.exit_code == 2);
        CHECK(too_wide.err.find(
                  "--window 200000: must be a whole number from 2 to 100000 (as Window= in healerd.conf)") !=
              std::string::npos);
        CHECK(healctl({"replay", csv.string(), "--window", "100000"}).exit_code == 0);
        CHECK(healctl({"replay", csv.string(), "--k", "101"}).exit_code == 2);
    }
    SECTION("parameters from a healerd.conf, overridden by flags") {
        const auto conf = dir.path() / "healerd.conf";
        write_file(conf, "[Detector]\nConsecutive=3\nFloor=99\n");
        const RunResult from_file = healctl({"replay", csv.string(), "--config", conf.string()});
        REQUIRE(from_file.exit_code == 0);
        CHECK(from_file.out.find(",1\n") == std::string::npos);
        const RunResult overridden = healctl({"replay", csv.string(), "--config", conf.string(), "--floor", "50"});
        REQUIRE(overridden.exit_code == 0);
        CHECK(lines_of(overridden.out)[33].ends_with(",1"));
        write_file(conf, "[Detector]\nConsecutive=lots\n");
        const RunResult bad = healctl({"replay", csv.string(), "--config", conf.string()});
        INFO(bad.describe());
        CHECK(bad.exit_code == 1);
        CHECK(bad.err.find(conf.string() + ":2:") != std::string::npos);
    }
}

namespace {

constexpr std::int64_t kStart = 1'717'243'200;  // the stored history's first second

// 20 stored ticks a second of the machine and web.service, as healerd stores
// them: web.service down from second 10 to 15, stored Failed from second 12.
void store_history(const std::filesystem::path& file) {
    heal::Store store(file);
    for (std::int64_t s = 0; s < 20; ++s) {
        const heal::TimePoint time{std::chrono::seconds(kStart + s)};
        heal::MetricRecord machine{.timestamp = time, .cpu = 10.0, .memory = 30.0, .unit = "",
                                   .detail = heal::ReadingDetail{}};
        heal::ReadingDetail web;
        web.present = s < 10 || s > 15;
        web.automatic_restarts = 0;
        store.add_metrics(std::vector{machine, heal::MetricRecord{.timestamp = time,
                                                                  .cpu = web.present ? 5.0 : 0.0,
                                                                  .memory = web.present ? 12.0 : 0.0,
                                                                  .healthy = s < 12 || s > 15,
                                                                  .unit = "web.service",
                                                                  .detail = web}});
    }
}

std::string bytes_of(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("replay judges healerd's stored history again with a config's settings, offline", "[replay]") {
    TempDir dir;
    NoBus no_bus(dir.path());
    const auto db = dir.path() / "healerd.db";
    store_history(db);
    const std::string stored = bytes_of(db);
    const auto conf = dir.path() / "healerd.conf";
    write_file(conf, "[Monitor]\nUnits=web.service\n");
    const std::vector<std::string> history{"replay", "--database", db.string(), "--config", conf.string()};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = history;
        args.insert(args.end(), extra.begin(), extra.end());
        return healctl(args);
    };

    SECTION("the failure healerd raised is raised again, and both are counted") {
        const RunResult result = healctl(history);
        INFO(result.describe());
        REQUIRE(result.exit_code == 0);
        CHECK(result.out.find("web.service is not running (for 2 s)") != std::string::npos);
        CHECK(result.out.find("Replayed 40 stored rows of " + db.string()) != std::string::npos);
        const Json json = json_of(with({"--json"}));
        REQUIRE(json["failures"].size() == 1);
        CHECK(json["failures"][0]["unit"] == "web.service");
        CHECK(json["failures"][0]["signal"] == "active");
        CHECK(json["failures"][0]["timestamp"] == "2024-06-01T12:00:12.000Z");
        CHECK(json["rows"] == 40);
        CHECK(json["restarts"] == 0);
        REQUIRE(json["targets"].size() == 2);
        CHECK(json["targets"][1] ==
              Json{{"unit", "web.service"}, {"ticks", 20}, {"stored_failures", 1}, {"replayed_failures", 1}});
        CHECK(bytes_of(db) == stored);  // read, never written
    }
    SECTION("settings more patient with a stopped unit would have raised nothing") {
        std::filesystem::create_directory(dir.path() / "units.d");
        write_file(dir.path() / "units.d" / "web.service.conf", "[Detection]\nInactiveForSec=30s\n");
        const Json json = json_of(with({"--json"}));
        CHECK(json["failures"].empty());
        CHECK(json["targets"][1]["stored_failures"] == 1);
        CHECK(json["targets"][1]["replayed_failures"] == 0);
    }
    SECTION("--unit, --since and --until choose what is replayed") {
        const Json web = json_of(with({"--json", "--unit", "web.service"}));
        REQUIRE(web["targets"].size() == 1);
        CHECK(web["targets"][0]["unit"] == "web.service");
        const Json machine = json_of(with({"--json", "--unit", "machine"}));
        REQUIRE(machine["targets"].size() == 1);
        CHECK(machine["targets"][0]["unit"] == "");
        const Json late = json_of(with({"--json", "--since", fmt::format("@{}", kStart + 16)}));
        CHECK(late["rows"] == 8);
        CHECK(late["failures"].empty());
        const Json early = json_of(with({"--json", "--until", fmt::format("@{}", kStart + 5)}));
        CHECK(early["rows"] == 10);
        CHECK(early["to"] == "2024-06-01T12:00:04.000Z");
        const RunResult none = with({"--since", "@0", "--until", "@100"});
        INFO(none.describe());
        CHECK(none.exit_code == 0);
        CHECK(none.out.find("No stored ticks in " + db.string()) != std::string::npos);
    }
    SECTION("a missing database or a bad config is exit 1 naming the file; nothing is created") {
        const auto absent = dir.path() / "absent.db";
        const RunResult missing = healctl({"replay", "--database", absent.string(), "--config", conf.string()});
        INFO(missing.describe());
        CHECK(missing.exit_code == 1);
        CHECK(missing.err.find(absent.string() + ": cannot open database") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(absent));
        write_file(conf, "[Detection]\nInactiveForSec=soon\n");
        const RunResult bad = healctl(history);
        INFO(bad.describe());
        CHECK(bad.exit_code == 1);
        CHECK(bad.err.find(conf.string() + ":2:") != std::string::npos);
        const RunResult no_config =
            healctl({"replay", "--database", db.string(), "--config", (dir.path() / "none.conf").string()});
        CHECK(no_config.exit_code == 2);
        CHECK(no_config.err.find("none.conf: no such file") != std::string::npos);
    }
}

TEST_CASE("probe samples this machine without the daemon", "[probe]") {
    TempDir dir;
    NoBus no_bus(dir.path());
    const RunResult result = healctl({"probe", "--seconds", "1", "--interval", "0.25", "--json"});
    INFO(result.describe());
    REQUIRE(result.exit_code == 0);
    const auto samples = json_lines_of(result.out);
    REQUIRE(samples.size() == 4);
    for (const Json& sample : samples) {
        CHECK(is_iso8601_utc(sample["timestamp"]));
        CHECK(sample["cpu"].get<double>() >= 0.0);
        CHECK(sample["cpu"].get<double>() <= 100.0);
        CHECK(sample["memory"].get<double>() > 0.0);
        CHECK(sample["memory"].get<double>() <= 100.0);
        REQUIRE(sample["verdicts"].size() == 2);
        CHECK(sample["verdicts"][0]["metric"] == "cpu");
        CHECK(sample["verdicts"][1]["metric"] == "memory");
        CHECK(sample["failure"].is_boolean());
    }
    const RunResult text = healctl({"probe", "--seconds", "0.5", "--interval", "0.25"});
    INFO(text.describe());
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("memory") != std::string::npos);
}

TEST_CASE("healerd --verify-config says whether healerd would take a configuration, without starting", "[config]") {
    TempDir dir;
    const auto conf = dir.path() / "healerd.conf";
    write_file(conf, "[Monitor]\nUnits=web.service\n[CpuSaturation]\nForSec=2min\n");
    std::filesystem::create_directory(dir.path() / "units.d");
    write_file(dir.path() / "units.d" / "web.service.conf", "[Detection]\nSignals=memory_leak\n");
    const RunResult good = run({HEALERD_PATH, "--verify-config", "--config", conf.string()});
    INFO(good.describe());
    CHECK(good.exit_code == 0);
    CHECK(good.out.find(conf.string() + " is valid: 1 watched unit(s), 1 with settings in") != std::string::npos);

    write_file(dir.path() / "units.d" / "web.service.conf", "[Detection]\nSignals=memory_leak\n[MemoryLeak]\nForSec=ages\n");
    const RunResult bad = run({HEALERD_PATH, "--verify-config", "--config", conf.string()});
    INFO(bad.describe());
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("web.service.conf:4: [MemoryLeak] ForSec=ages: must be a time span") != std::string::npos);
    CHECK(bad.out.empty());

    const RunResult missing = run({HEALERD_PATH, "--verify-config", "--config", (dir.path() / "none.conf").string()});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("none.conf: does not exist") != std::string::npos);
}
