#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <set>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;
using namespace std::chrono_literals;

namespace {

// The message of the ConfigError that loading `content` as a main file raises.
std::string error_of(const std::string& content) {
    TempDir dir;
    const auto file = dir.write("healerd.conf", content);
    try {
        load_config(file, true);
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << content);
    return {};
}

}  // namespace

TEST_CASE("an absent optional main file gives the defaults", "[config]") {
    TempDir dir;
    const Config config = load_config(dir.root() / "healerd.conf", false);
    CHECK(config.sample_interval == 1s);
    CHECK(config.units.empty());
    CHECK(config.detection.original.window == 60);
    CHECK(config.detection.original.k == 2.0);
    CHECK(config.detection.original.min_samples == 10);
    CHECK(config.detection.original.warmup_threshold == 90.0);
    CHECK(config.detection.original.consecutive == 3);
    CHECK(config.detection.original.floor == 50.0);
    CHECK(config.auto_recover);
    CHECK(config.allowed_actions == all_actions());
    CHECK(config.recovery_timeout == 5s);
    CHECK(config.circuit_breaker_burst == 3);
    CHECK(config.circuit_breaker_interval == 600s);
    CHECK(config.backend.scale_up_factor == 1.5);
    // Twice what the operator configured: a raise is help through an incident, not a new limit.
    CHECK(config.backend.ceilings == LimitCeilings{LimitCeiling::multiple(2.0), LimitCeiling::multiple(2.0)});
    CHECK(config.scale_up_expire == 3600s);
    CHECK(config.backend.rollback_hook == "/etc/healerd/rollback.d");
    CHECK_FALSE(config.backend.dry_run);
    CHECK_FALSE(config.database);
    CHECK(config.retention.max_age == std::chrono::seconds(7 * 24 * 3600));
    CHECK(config.retention.max_rows == 1'000'000);
    CHECK_FALSE(config.simulation.seed);
    CHECK(config.simulation.heal_chances == HealChances{0.7, 0.6, 0.5, 0.2});
}

TEST_CASE("a required main file must exist", "[config]") {
    TempDir dir;
    const auto missing = dir.root() / "missing.conf";
    REQUIRE_THROWS_AS(load_config(missing, true), ConfigError);
    try {
        load_config(missing, true);
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == missing.string() + ": does not exist");
        CHECK(e.file() == missing);
        CHECK(e.line() == 0);
    }
}

TEST_CASE("every key is parsed", "[config]") {
    TempDir dir;
    const auto file = dir.write("healerd.conf", R"(# healerd test configuration
; both comment styles
[Monitor]
SampleIntervalSec=500ms
Units=nginx.service  postgresql@15-main.service

[Detector]
Window=120
K=3.5
MinSamples=20
WarmupThreshold=95
Consecutive=2
Floor=40
MemoryCeiling=90
RelearnAfter=0

[Recovery]
AutoRecover=no
AllowedActions=restart do_nothing
RecoveryTimeoutSec=1min 30s
CircuitBreakerBurst=5
CircuitBreakerIntervalSec=1h
StableSec=2min
BackoffSec=5
BackoffMaxSec=1min
MaxAttempts=3
Mode=shadow
ScaleUpFactor=2
ScaleUpExpireSec=10min
MemoryMaxCeiling=4G
CPUQuotaCeiling=250%
RollbackHook=/usr/local/lib/healerd/rollback
RollbackTimeoutSec=90s
PackageChangeWindowSec=2h
DryRun=yes
OnGiveUp=page-oncall@.service

[Storage]
Path=/srv/healerd/history.db
MaxAgeSec=30d
MaxRows=5000
WriteIntervalSec=30s

[Simulation]
Seed=18446744073709551615
HealChance=restart:1 scale_up:0 rollback:0.25 do_nothing:0.125
)");
    const Config config = load_config(file, true);
    CHECK(config.sample_interval == 500ms);
    CHECK(config.units == std::vector<std::string>{"nginx.service", "postgresql@15-main.service"});
    CHECK(config.detection.original.window == 120);
    CHECK(config.detection.original.k == 3.5);
    CHECK(config.detection.original.min_samples == 20);
    CHECK(config.detection.original.warmup_threshold == 95.0);
    CHECK(config.detection.original.consecutive == 2);
    CHECK(config.detection.original.floor == 40.0);
    CHECK(config.detection.original.memory_ceiling == 90.0);
    CHECK(config.detection.original.relearn_after == 0);
    CHECK_FALSE(config.auto_recover);
    CHECK(contains(config.allowed_actions, Action::restart));
    CHECK(contains(config.allowed_actions, Action::do_nothing));
    CHECK_FALSE(contains(config.allowed_actions, Action::scale_up));
    CHECK_FALSE(contains(config.allowed_actions, Action::rollback));
    CHECK(config.recovery_timeout == 90s);
    CHECK(config.circuit_breaker_burst == 5);
    CHECK(config.circuit_breaker_interval == 3600s);
    CHECK(config.on_give_up == "page-oncall@.service");
    CHECK(config.incident == IncidentOptions{120s, Backoff{5s, 60s}, 3});
    CHECK(config.mode == RecoveryMode::shadow);
    CHECK(config.backend.scale_up_factor == 2.0);
    CHECK(config.backend.ceilings ==
          LimitCeilings{LimitCeiling::absolute(4.0 * 1024 * 1024 * 1024), LimitCeiling::absolute(250.0)});
    CHECK(config.scale_up_expire == 600s);
    CHECK(config.backend.rollback_hook == "/usr/local/lib/healerd/rollback");
    CHECK(config.backend.rollback_timeout == 90s);
    CHECK(config.backend.package_change_window == 7200s);
    CHECK(config.backend.dry_run);
    CHECK(config.database == std::filesystem::path("/srv/healerd/history.db"));
    CHECK(config.retention.max_age == std::chrono::seconds(30 * 24 * 3600));
    CHECK(config.retention.max_rows == 5000);
    CHECK(config.metric_write_interval == 30s);
    CHECK(config.simulation.seed == 18446744073709551615ull);
    CHECK(config.simulation.heal_chances == HealChances{1.0, 0.0, 0.25, 0.125});
}

TEST_CASE("HealChance= sets the actions it names, and the others keep the original design's odds", "[config]") {
    TempDir dir;
    const auto load = [&](const std::string& simulation) {
        return load_config(dir.write("healerd.conf", "[Simulation]\n" + simulation), true).simulation;
    };
    CHECK(load("HealChance=rollback:1\n").heal_chances == HealChances{0.7, 0.6, 1.0, 0.2});
    // Each assignment starts from the defaults: the last one holds every change.
    CHECK(load("HealChance=restart:0\nHealChance=do_nothing:0.5\n").heal_chances == HealChances{0.7, 0.6, 0.5, 0.5});
    CHECK(load("HealChance=restart:0\nHealChance=\n").heal_chances == kDefaultHealChances);
    CHECK(load("Seed=0\n").seed == 0u);
    CHECK_FALSE(load("Seed=42\nSeed=\n").seed);  // empty: a random seed again
}

TEST_CASE("drop-ins apply in lexical order over the main file", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=a.service\n[Recovery]\nRecoveryTimeoutSec=5\n");
    dir.write("healerd.conf.d/20-second.conf", "[Recovery]\nRecoveryTimeoutSec=20\n");
    dir.write("healerd.conf.d/10-first.conf", "[Recovery]\nRecoveryTimeoutSec=10\n[Monitor]\nUnits=b.service\n");
    dir.write("healerd.conf.d/30-ignored.txt", "this is not a drop-in\n");
    const Config config = load_config(main, true);
    CHECK(config.recovery_timeout == 20s);
    CHECK(config.units == std::vector<std::string>{"a.service", "b.service"});
    CHECK(drop_in_directory(main) == dir.root() / "healerd.conf.d");
}

TEST_CASE("drop-ins apply without a main file", "[config]") {
    TempDir dir;
    dir.write("healerd.conf.d/units.conf", "[Monitor]\nUnits=only.service\n");
    const Config config = load_config(dir.root() / "healerd.conf", false);
    CHECK(config.units == std::vector<std::string>{"only.service"});
}

TEST_CASE("Units= appends and an empty assignment clears it", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=a.service b.service\nUnits=a.service\n");
    CHECK(load_config(main, true).units == std::vector<std::string>{"a.service", "b.service"});
    dir.write("healerd.conf.d/override.conf", "[Monitor]\nUnits=\nUnits=c.service\n");
    CHECK(load_config(main, true).units == std::vector<std::string>{"c.service"});
}

TEST_CASE("AllowedActions= is replaced by each assignment", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Recovery]\nAllowedActions=restart scale_up\n");
    dir.write("healerd.conf.d/override.conf", "[Recovery]\nAllowedActions=rollback\n");
    CHECK(load_config(main, true).allowed_actions == ActionSet().set(static_cast<std::size_t>(Action::rollback)));

    const auto cleared = dir.write("cleared.conf", "[Recovery]\nAllowedActions=\n");
    CHECK(load_config(cleared, true).allowed_actions.none());
}

TEST_CASE("infinity and zero lift limits", "[config]") {
    TempDir dir;
    const auto file = dir.write("healerd.conf",
                                "[Recovery]\nMemoryMaxCeiling=infinity\nCPUQuotaCeiling=infinity\nScaleUpExpireSec=0\n"
                                "CircuitBreakerIntervalSec=0\n[Storage]\nMaxAgeSec=infinity\nMaxRows=0\nPath=\n");
    const Config config = load_config(file, true);
    CHECK(config.backend.ceilings == LimitCeilings{LimitCeiling::unlimited(), LimitCeiling::unlimited()});
    CHECK(config.scale_up_expire == 0s);  // kept until reboot
    CHECK(config.circuit_breaker_interval == 0s);
    CHECK_FALSE(config.retention.max_age);
    CHECK_FALSE(config.retention.max_rows);
    CHECK_FALSE(config.database);
}

TEST_CASE("structural errors name the file and line", "[config]") {
    TempDir dir;
    const auto file = dir.write("healerd.conf", "[Monitor]\nSampleIntervalSec=2\n[Nonsense]\nFoo=bar\n");
    try {
        load_config(file, true);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == file.string() + ":4: unknown section [Nonsense] (key Foo)");
        CHECK(e.file() == file);
        CHECK(e.line() == 4);
    }
    CHECK_THAT(error_of("\n\n[Monitor]\nUnit=a.service\n"),
               Catch::EndsWith("healerd.conf:4: unknown key Unit in section [Monitor]"));
    CHECK_THAT(error_of("Units=a.service\n"), Catch::EndsWith("healerd.conf:1: key Units is outside any section"));
    CHECK_THAT(error_of("[Monitor]\nUnits a.service\n"),
               Catch::EndsWith("healerd.conf:2: syntax error: expected [Section] or Key=Value"));
    CHECK_THAT(error_of("[Monitor\nUnits=a.service\n"),
               Catch::EndsWith("healerd.conf:1: syntax error: expected [Section] or Key=Value"));
    CHECK_THAT(error_of(std::string("[Monitor]\nUnits=a.service\0\n", 27)),
               Catch::EndsWith("healerd.conf: is not a text file (contains NUL bytes)"));
}

TEST_CASE("systemd syntax: no inline comments, no continuation lines", "[config]") {
    // A ';' inside a value is part of it, so this unit name is invalid.
    CHECK_THAT(error_of("[Monitor]\nUnits=a.service ; comment\n"),
               Catch::Contains("[Monitor] Units=a.service ; comment: ';' is not a unit name"));
    // An indented line is its own assignment, not a continuation.
    CHECK_THAT(error_of("[Monitor]\nUnits=a.service\n  b.service\n"),
               Catch::EndsWith("healerd.conf:3: syntax error: expected [Section] or Key=Value"));
}

TEST_CASE("lines of any reasonable length are read, up to 1 MiB", "[config]") {
    TempDir dir;
    std::string units;
    std::vector<std::string> expected;
    for (int i = 0; i < 3000; ++i) {
        expected.push_back("healer-unit-" + std::to_string(10000 + i) + ".service");
        units += expected.back() + " ";
    }
    REQUIRE(units.size() > 64 * 1024);
    const Config config = load_config(dir.write("healerd.conf", "[Monitor]\nUnits=" + units + "\n"), true);
    CHECK(config.units == expected);

    CHECK_THAT(error_of("[Monitor]\nUnits=" + std::string(2 << 20, 'a') + ".service\n"),
               Catch::EndsWith("healerd.conf:2: line too long (more than 1 MiB)"));
}

TEST_CASE("only systemd's Key=Value syntax is accepted", "[config]") {
    CHECK_THAT(error_of("[Monitor]\nSampleIntervalSec=2\nUnits: a.service\n"),
               Catch::EndsWith("healerd.conf:3: syntax error: expected [Section] or Key=Value "
                               "('Key: value' is not systemd's syntax)"));
    CHECK_THAT(error_of("[Monitor]\nUnits=a.service \\\n  b.service\n"),
               Catch::EndsWith("healerd.conf:2: continuation lines (ending in '\\') are not supported: "
                               "put the value on one line"));
    CHECK_THAT(error_of("[Monitor]\n=a.service\n"),
               Catch::EndsWith("healerd.conf:2: syntax error: expected [Section] or Key=Value"));
    // Blanks around keys, values and section lines, and indented comments, are fine.
    TempDir dir;
    const Config config = load_config(
        dir.write("healerd.conf", "  [Monitor]  \r\n\t# indented comment\n  Units \t=  a.service  \r\n\n"), true);
    CHECK(config.units == std::vector<std::string>{"a.service"});
}

TEST_CASE("the detectors' memory is bounded by Window times the units", "[config]") {
    const auto with_units = [](int count, int window) {
        std::string text = "[Monitor]\nUnits=";
        for (int i = 0; i < count; ++i) text += "u" + std::to_string(i) + ".service ";
        return text + "\n[Detector]\nWindow=" + std::to_string(window) + "\n";
    };
    CHECK_THAT(error_of(with_units(2000, 100000)),
               Catch::EndsWith("healerd.conf: [Detector] Window=100000 for the machine and 2000 units keeps "
                               "400200000 samples (3053 MiB); at most 8388608 (64 MiB) are allowed: lower Window= "
                               "or watch fewer Units="));
    // 100000 × (40 + 1) × 2 = 8.2 Mi samples fits; one unit more does not.
    TempDir dir;
    CHECK(load_config(dir.write("fits.conf", with_units(40, 100000)), true).units.size() == 40);
    CHECK_THAT(error_of(with_units(41, 100000)), Catch::Contains("Window=100000 for the machine and 41 units"));
}

TEST_CASE("a [Detector] key set from text follows healerd.conf's rule", "[config]") {
    AdaptiveDetectorConfig detector = DetectionConfig::default_original();
    CHECK_FALSE(set_detector_key(detector, "Window", "100000"));
    CHECK(detector.window == 100000);
    CHECK(set_detector_key(detector, "Window", "200000") == "must be a whole number from 2 to 100000");
    CHECK(set_detector_key(detector, "Window", "1") == "must be a whole number from 2 to 100000");
    CHECK(detector.window == 100000);  // a refused value changes nothing
    CHECK_FALSE(set_detector_key(detector, "K", "3.5"));
    CHECK(detector.k == 3.5);
    CHECK(set_detector_key(detector, "K", "101") == "must be a number from 0 to 100");
    CHECK_FALSE(set_detector_key(detector, "MinSamples", "010"));  // decimal, as in the file
    CHECK(detector.min_samples == 10);
    CHECK(set_detector_key(detector, "Consecutive", "0") == "must be a whole number from 1 to 10000");
    CHECK(set_detector_key(detector, "RelearnAfter", "-1") == "must be a whole number from 0 to 1000000");
    CHECK_FALSE(set_detector_key(detector, "Floor", "40"));
    CHECK_FALSE(set_detector_key(detector, "WarmupThreshold", "95"));
    CHECK(set_detector_key(detector, "WarmupThreshold", "10001") == "must be a number (percent) from 0 to 10000");
    CHECK_THROWS_AS(set_detector_key(detector, "Units", "a.service"), std::invalid_argument);
    // Every [Detector] key of healerd.conf can be set this way.
    for (const auto& [section, key] : config_keys())
        if (section == "Detector") CHECK_NOTHROW(set_detector_key(detector, key, "x"));
}

TEST_CASE("bad values name the file, line, key and value", "[config]") {
    struct Case {
        std::string section;
        std::string assignment;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"Monitor", "SampleIntervalSec=fast", "[Monitor] SampleIntervalSec=fast: must be a time span from 100ms to 1h"},
        {"Monitor", "SampleIntervalSec=10ms", "[Monitor] SampleIntervalSec=10ms: must be a time span from 100ms to 1h"},
        {"Monitor", "SampleIntervalSec=2h", "[Monitor] SampleIntervalSec=2h: must be a time span from 100ms to 1h"},
        {"Monitor", "Units=nginx", "[Monitor] Units=nginx: 'nginx' is not a unit name (like nginx.service)"},
        {"Monitor", "Units=a.service ../etc.service", "'../etc.service' is not a unit name"},
        {"Detector", "Window=1", "[Detector] Window=1: must be a whole number from 2 to 100000"},
        {"Detector", "Window=-5", "[Detector] Window=-5: must be a whole number from 2 to 100000"},
        {"Detector", "Window=12x", "[Detector] Window=12x: must be a whole number from 2 to 100000"},
        {"Detector", "K=-1", "[Detector] K=-1: must be a number from 0 to 100"},
        {"Detector", "K=nan", "[Detector] K=nan: must be a number from 0 to 100"},
        {"Detector", "MinSamples=1", "[Detector] MinSamples=1: must be a whole number from 2 to 100000"},
        {"Detector", "WarmupThreshold=high", "[Detector] WarmupThreshold=high: must be a number (percent) from 0 to 10000"},
        {"Detector", "Consecutive=0", "[Detector] Consecutive=0: must be a whole number from 1 to 10000"},
        {"Detector", "Floor=-1", "[Detector] Floor=-1: must be a number (percent) from 0 to 10000"},
        {"Detector", "MemoryCeiling=0", "[Detector] MemoryCeiling=0: must be a number (percent) from 1 to 10000"},
        {"Detector", "RelearnAfter=x", "[Detector] RelearnAfter=x: must be a whole number from 0 to 1000000"},
        {"Recovery", "AutoRecover=maybe", "[Recovery] AutoRecover=maybe: must be a boolean"},
        {"Recovery", "AllowedActions=restart reboot", "[Recovery] AllowedActions=restart reboot: 'reboot' is not an action"},
        {"Recovery", "RecoveryTimeoutSec=0", "[Recovery] RecoveryTimeoutSec=0: must be a time span from 100ms to 1h"},
        {"Recovery", "CircuitBreakerBurst=0", "[Recovery] CircuitBreakerBurst=0: must be a whole number from 1 to 1000"},
        {"Recovery", "CircuitBreakerIntervalSec=soon", "[Recovery] CircuitBreakerIntervalSec=soon: must be a time span"},
        {"Recovery", "StableSec=0", "[Recovery] StableSec=0: must be a time span of whole seconds, from 1s to 1d"},
        {"Recovery", "BackoffSec=2h", "[Recovery] BackoffSec=2h: must be a time span of whole seconds, from 0 to 1h"},
        {"Recovery", "BackoffMaxSec=later", "[Recovery] BackoffMaxSec=later: must be a time span"},
        {"Recovery", "MaxAttempts=0", "[Recovery] MaxAttempts=0: must be a whole number from 1 to 100"},
        {"Recovery", "Mode=passive", "[Recovery] Mode=passive: must be active or shadow"},
        {"Recovery", "ScaleUpFactor=1", "[Recovery] ScaleUpFactor=1: must be a number above 1"},
        {"Recovery", "MemoryMaxCeiling=4Q",
         "[Recovery] MemoryMaxCeiling=4Q: must be a multiple of the unit's limit like 2x, a size like 512M or 4G, "
         "or infinity"},
        {"Recovery", "MemoryMaxCeiling=0", "[Recovery] MemoryMaxCeiling=0: must be a multiple"},
        {"Recovery", "CPUQuotaCeiling=-50%",
         "[Recovery] CPUQuotaCeiling=-50%: must be a multiple of the unit's quota like 2x, a percentage of one CPU"},
        {"Recovery", "CPUQuotaCeiling=2y", "[Recovery] CPUQuotaCeiling=2y: must be a multiple"},
        {"Recovery", "ScaleUpExpireSec=soon", "[Recovery] ScaleUpExpireSec=soon: must be"},
        {"Recovery", "RollbackHook=hooks/rollback", "[Recovery] RollbackHook=hooks/rollback: must be an absolute path"},
        {"Recovery", "RollbackTimeoutSec=0", "[Recovery] RollbackTimeoutSec=0: must be a time span of whole seconds, from 1s to 1d"},
        {"Recovery", "PackageChangeWindowSec=-1", "[Recovery] PackageChangeWindowSec=-1: must be a time span"},
        {"Recovery", "DryRun=2", "[Recovery] DryRun=2: must be a boolean"},
        {"Recovery", "OnGiveUp=page-oncall.service",
         "[Recovery] OnGiveUp=page-oncall.service: 'page-oncall.service' is not a template service unit (like healerd-alert@.service)"},
        {"Recovery", "OnGiveUp=@.service", "[Recovery] OnGiveUp=@.service: '@.service' is not a template service unit"},
        {"Recovery", "OnGiveUp=a b@.service", "[Recovery] OnGiveUp=a b@.service: 'a b@.service' is not a template"},
        {"Learning", "RetrainAfter=-1", "[Learning] RetrainAfter=-1: must be a whole number from 0 to 100000"},
        {"Learning", "RetrainEpisodes=0", "[Learning] RetrainEpisodes=0: must be a whole number from 1 to 10000"},
        {"Storage", "Path=healerd.db", "[Storage] Path=healerd.db: must be an absolute path"},
        {"Storage", "MaxAgeSec=forever", "[Storage] MaxAgeSec=forever: must be a time span like 7d or 12h, or infinity"},
        {"Storage", "MaxRows=-3", "[Storage] MaxRows=-3: must be a whole number of rows, or infinity"},
        {"Storage", "WriteIntervalSec=2h", "[Storage] WriteIntervalSec=2h: must be a time span from 0 (every sample) to 1h"},
        {"Export", "PrometheusTextfile=healerd.prom", "[Export] PrometheusTextfile=healerd.prom: must be an absolute path"},
        {"Export", "ExportIntervalSec=0", "[Export] ExportIntervalSec=0: must be a time span of whole seconds, from 1s to 1h"},
        {"Export", "ExportIntervalSec=2h", "[Export] ExportIntervalSec=2h: must be a time span of whole seconds, from 1s to 1h"},
        {"Export", "ExportIntervalSec=often", "[Export] ExportIntervalSec=often: must be a time span"},
        {"Simulation", "Seed=-1", "[Simulation] Seed=-1: must be a whole number from 0 to 18446744073709551615, or empty for a random seed"},
        {"Simulation", "Seed=18446744073709551616", "[Simulation] Seed=18446744073709551616: must be a whole number"},
        {"Simulation", "Seed=0x10", "[Simulation] Seed=0x10: must be a whole number"},
        {"Simulation", "HealChance=reboot:1", "[Simulation] HealChance=reboot:1: 'reboot:1' does not start with an action (restart, scale_up, rollback, do_nothing)"},
        {"Simulation", "HealChance=restart", "[Simulation] HealChance=restart: 'restart' has no chance: write ACTION:CHANCE, like restart:0.7"},
        {"Simulation", "HealChance=restart:1.5", "[Simulation] HealChance=restart:1.5: 'restart:1.5': the chance must be a number from 0 to 1"},
        {"Simulation", "HealChance=scale_up:-0.1", "[Simulation] HealChance=scale_up:-0.1: 'scale_up:-0.1': the chance must be"},
        {"Simulation", "HealChance=rollback:half", "'rollback:half': the chance must be a number from 0 to 1"},
        {"Simulation", "HealChance=restart:1 restart:0", "[Simulation] HealChance=restart:1 restart:0: 'restart:0' names restart a second time"},
    };
    for (const Case& c : cases) {
        INFO(c.assignment);
        const std::string message = error_of("# comment\n[" + c.section + "]\n" + c.assignment + "\n");
        CHECK_THAT(message, Catch::Contains("healerd.conf:3: ") && Catch::Contains(c.message));
    }
}

TEST_CASE("settings that contradict each other are refused", "[config]") {
    CHECK_THAT(error_of("[Detector]\nWindow=5\nMinSamples=10\n"),
               Catch::EndsWith("healerd.conf: [Detector] MinSamples=10 is larger than Window=5"));
    CHECK_THAT(error_of("[Detector]\nConsecutive=5\nRelearnAfter=3\n"),
               Catch::EndsWith("healerd.conf: [Detector] RelearnAfter=3 must be 0 or at least Consecutive=5"));
    CHECK_THAT(error_of("[Recovery]\nBackoffSec=1min\nBackoffMaxSec=30s\n"),
               Catch::EndsWith("healerd.conf: [Recovery] BackoffMaxSec=30s is shorter than BackoffSec=60s"));
}

TEST_CASE("a bad drop-in names itself and changes nothing", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=a.service\n");
    const auto bad = dir.write("healerd.conf.d/50-bad.conf", "[Monitor]\nUnits=b.service\nSampleIntervalSec=never\n");
    try {
        load_config(main, true);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.file() == bad);
        CHECK(e.line() == 3);
    }
    Config config = load_config(dir.write("other.conf", "[Monitor]\nUnits=a.service\n"), true);
    REQUIRE_THROWS_AS(apply_config_file(config, bad), ConfigError);
    CHECK(config.units == std::vector<std::string>{"a.service"});
    CHECK(config.sample_interval == 1s);
}

TEST_CASE("an unreadable configuration is an error naming it", "[config]") {
    TempDir dir;
    std::filesystem::create_directories(dir.root() / "healerd.conf");  // a directory, not a file
    CHECK_THROWS_WITH(load_config(dir.root() / "healerd.conf", true),
                      Catch::StartsWith((dir.root() / "healerd.conf").string() + ": cannot read"));
}

TEST_CASE("time spans use systemd's syntax", "[config]") {
    CHECK(parse_timespan("5") == 5s);
    CHECK(parse_timespan("1.5") == 1500ms);
    CHECK(parse_timespan("500ms") == 500ms);
    CHECK(parse_timespan("2min 30s") == 150s);
    CHECK(parse_timespan("1h30min") == 5400s);
    CHECK(parse_timespan("3d") == std::chrono::hours(72));
    CHECK(parse_timespan("1w") == std::chrono::hours(168));
    CHECK(parse_timespan("250us") == std::chrono::microseconds(250));
    CHECK_FALSE(parse_timespan(""));
    CHECK_FALSE(parse_timespan("s"));
    CHECK_FALSE(parse_timespan("5 parsecs"));
    CHECK_FALSE(parse_timespan("-5s"));
    CHECK_FALSE(parse_timespan("100000w"));
}

TEST_CASE("sizes, quotas, booleans and unit names", "[config]") {
    CHECK(parse_size("1024") == std::optional<std::uint64_t>(1024));
    CHECK(parse_size("512M") == std::optional<std::uint64_t>(512ull << 20));
    CHECK(parse_size("1.5G") == std::optional<std::uint64_t>(3ull << 29));
    const auto unlimited_size = parse_size("infinity");
    REQUIRE(unlimited_size);
    CHECK_FALSE(*unlimited_size);
    CHECK_FALSE(parse_size("12MB"));
    CHECK_FALSE(parse_size("lots"));
    CHECK_FALSE(parse_size("99999999T"));

    CHECK(parse_cpu_quota("150%") == std::optional<double>(150.0));
    CHECK(parse_cpu_quota("50") == std::optional<double>(50.0));
    const auto unlimited_quota = parse_cpu_quota("infinity");
    REQUIRE(unlimited_quota);
    CHECK_FALSE(*unlimited_quota);
    CHECK_FALSE(parse_cpu_quota("0%"));
    CHECK_FALSE(parse_cpu_quota("%"));

    for (const char* yes : {"yes", "true", "on", "1"}) CHECK(parse_boolean(yes) == true);
    for (const char* no : {"no", "false", "off", "0"}) CHECK(parse_boolean(no) == false);
    CHECK_FALSE(parse_boolean("Yes please"));

    CHECK(valid_unit_name("nginx.service"));
    CHECK(valid_unit_name("getty@tty1.service"));
    CHECK(valid_unit_name("system-healerd\\x2ddemo.slice"));
    CHECK_FALSE(valid_unit_name(""));
    CHECK_FALSE(valid_unit_name(".service"));
    CHECK_FALSE(valid_unit_name("nginx"));
    CHECK_FALSE(valid_unit_name("a/b.service"));
    CHECK_FALSE(valid_unit_name("a b.service"));
    CHECK_FALSE(valid_unit_name(std::string(250, 'a') + ".service"));
}

TEST_CASE("the shipped healerd.conf shows every key at its default", "[config]") {
    const std::filesystem::path shipped = std::filesystem::path(HEAL_FIXTURES_DIR) / "../../etc/healerd.conf";
    std::ifstream in(shipped);
    REQUIRE(in);
    // Uncomment the "#Key=value" lines; comments in prose have a space after '#'.
    std::string line, uncommented, section;
    std::set<std::pair<std::string, std::string>> shown;
    while (std::getline(in, line)) {
        if (line.starts_with('[')) section = line.substr(1, line.find(']') - 1);
        if (line.size() > 1 && line[0] == '#' && std::isupper(static_cast<unsigned char>(line[1]))) {
            line.erase(0, 1);
            shown.emplace(section, line.substr(0, line.find('=')));
        }
        uncommented += line + "\n";
    }
    for (const auto& [key_section, key] : config_keys()) {
        INFO(key_section << "." << key);
        CHECK(shown.count({std::string(key_section), std::string(key)}) == 1);
    }

    TempDir dir;
    const Config config = load_config(dir.write("healerd.conf", uncommented), true);
    const Config defaults;
    CHECK(config.sample_interval == defaults.sample_interval);
    CHECK(config.units == defaults.units);
    CHECK(config.incident == defaults.incident);
    CHECK(config.mode == defaults.mode);
    CHECK(config.detection == defaults.detection);
    CHECK(config.auto_recover == defaults.auto_recover);
    CHECK(config.retrain_after == defaults.retrain_after);
    CHECK(config.retrain_episodes == defaults.retrain_episodes);
    CHECK(config.allowed_actions == defaults.allowed_actions);
    CHECK(config.recovery_timeout == defaults.recovery_timeout);
    CHECK(config.circuit_breaker_burst == defaults.circuit_breaker_burst);
    CHECK(config.circuit_breaker_interval == defaults.circuit_breaker_interval);
    CHECK(config.backend.scale_up_factor == defaults.backend.scale_up_factor);
    CHECK(config.backend.ceilings == defaults.backend.ceilings);
    CHECK(config.scale_up_expire == defaults.scale_up_expire);
    CHECK(config.backend.rollback_hook == defaults.backend.rollback_hook);
    CHECK(config.backend.package_change_window == defaults.backend.package_change_window);
    CHECK(config.backend.dry_run == defaults.backend.dry_run);
    CHECK(config.simulation == defaults.simulation);
    CHECK(config.database == defaults.database);
    CHECK(config.retention.max_age == defaults.retention.max_age);
    CHECK(config.retention.max_rows == defaults.retention.max_rows);
    CHECK(config.metric_write_interval == defaults.metric_write_interval);
    CHECK(config.prometheus_textfile == defaults.prometheus_textfile);
    CHECK(config.export_interval == defaults.export_interval);
}

TEST_CASE("the Prometheus export is off by default and takes an absolute path", "[config]") {
    TempDir dir;
    CHECK_FALSE(load_config(dir.write("empty.conf", ""), true).prometheus_textfile);
    CHECK(Config{}.export_interval == 15s);
    const Config config = load_config(
        dir.write("healerd.conf",
                  "[Export]\nPrometheusTextfile=/var/lib/node_exporter/healerd.prom\nExportIntervalSec=1min\n"),
        true);
    CHECK(config.prometheus_textfile == std::filesystem::path("/var/lib/node_exporter/healerd.prom"));
    CHECK(config.export_interval == 60s);
    // An empty assignment turns an earlier one off again.
    CHECK_FALSE(load_config(dir.write("off.conf", "[Export]\nPrometheusTextfile=/x.prom\nPrometheusTextfile=\n"), true)
                    .prometheus_textfile);
}
