// The [Probe] section of units.d files: a unit's health probes.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace heal;
using namespace std::chrono_literals;
using heal::test::TempDir;

TEST_CASE("units.d [Probe]: a unit without one has no probes and the defaults of Kubernetes", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=web.service\n");
    dir.write("units.d/web.service.conf", "[Unit]\nStableSec=10\n");
    const Config config = load_config(main, true);
    for (const char* unit : {"web.service", "db.service"}) {
        INFO(unit);
        CHECK(config.settings_of(unit).probes.empty());
        CHECK(config.settings_of(unit).probe_options == ProbeOptions{});
        CHECK(config.settings_of(unit).probe_specs(unit, "").empty());
    }
}

TEST_CASE("units.d [Probe]: Probe= lines add probes that share the other keys, an empty one clears them",
          "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=web.service\n");
    dir.write("units.d/web.service.conf",
              "[Probe]\n"
              "Probe=tcp 127.0.0.1:6379\n"
              "Probe=http http://127.0.0.1:8080/healthz\n"
              "Probe=tcp 127.0.0.1:6379\n"
              "ProbeIntervalSec=5s\n"
              "ProbeTimeoutSec=500ms\n"
              "ProbeFailureThreshold=5\n"
              "ProbeSuccessThreshold=2\n"
              "ProbeInitialDelaySec=1min\n"
              "ProbeExpectStatus=200-299\n");
    ProbeOptions expected;
    expected.interval = 5s;
    expected.timeout = 500ms;
    expected.failure_threshold = 5;
    expected.success_threshold = 2;
    expected.initial_delay = 1min;
    expected.expect = StatusRange{200, 299};
    {
        const UnitSettings settings = load_config(main, true).settings_of("web.service");
        CHECK(settings.probes == std::vector<ProbeTarget>{parse_probe_target("tcp 127.0.0.1:6379"),
                                                          parse_probe_target("http http://127.0.0.1:8080/healthz")});
        CHECK(settings.probe_options == expected);
        const auto specs = settings.probe_specs("web.service", "www-data");
        REQUIRE(specs.size() == 2);
        CHECK(specs[1] == ProbeSpec{"web.service", settings.probes[1], expected, "www-data"});
        for (const ProbeSpec& spec : specs) CHECK_NOTHROW(spec.validate());
    }
    dir.write("units.d/web.service.conf.d/10-exec.conf",
              "[Probe]\nProbe=\nProbe=exec /usr/bin/redis-cli ping\nProbeExpectStatus=204\n");
    const UnitSettings settings = load_config(main, true).settings_of("web.service");
    CHECK(settings.probes == std::vector<ProbeTarget>{parse_probe_target("exec /usr/bin/redis-cli ping")});
    expected.expect = StatusRange{204, 204};
    CHECK(settings.probe_options == expected);
}

TEST_CASE("units.d [Probe]: bad values name the file, line, key and value", "[config]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"Probe=grpc 127.0.0.1:50051", "'grpc' is not a probe kind (tcp, http or exec)"},
        {"Probe=tcp localhost:6379", "target.host: 'localhost' is not an IP address (host names are not looked up)"},
        {"Probe=http https://127.0.0.1/", "'https://127.0.0.1/': https is not supported (probes speak plain HTTP)"},
        {"Probe=exec redis-cli ping",
         "target.argv: 'redis-cli' is not an absolute path (there is no shell or PATH search)"},
        {"ProbeIntervalSec=10ms", "must be a time span from 100ms to 1d (e.g. 5s, 500ms, 2min)"},
        {"ProbeTimeoutSec=2h", "must be a time span from 10ms to 1h (e.g. 5s, 500ms, 2min)"},
        {"ProbeInitialDelaySec=soon", "must be a time span from 0 to 1d (e.g. 5s, 500ms, 2min)"},
        {"ProbeFailureThreshold=0", "must be a whole number from 1 to 1000"},
        {"ProbeSuccessThreshold=1001", "must be a whole number from 1 to 1000"},
        {"ProbeExpectStatus=200-600", "'200-600': statuses run from 100 to 599, the lower first"},
        {"ProbeExpectStatus=2xx", "'2xx' is not a status or a range like 200-399"},
    };
    for (const auto& [assignment, problem] : cases) {
        INFO(assignment);
        TempDir dir;
        const auto main = dir.write("healerd.conf", "");
        const auto file = dir.write("units.d/web.service.conf", "[Probe]\nProbe=tcp 127.0.0.1:1\n" + assignment + "\n");
        try {
            load_config(main, false);
            FAIL("accepted");
        } catch (const ConfigError& error) {
            CHECK(error.file() == file);
            CHECK(error.line() == 3);
            CHECK(std::string(error.what()) == file.string() + ":3: [Probe] " + assignment + ": " + problem);
        }
    }
}
