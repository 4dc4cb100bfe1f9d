#include "storage/prometheus_text.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("prometheus: a small snapshot renders exactly") {
    PrometheusSnapshot snapshot;
    PrometheusSnapshot::Target machine;
    machine.cpu_ratio = 0.25;
    machine.memory_ratio = 0.5;
    machine.pressure = {0.01, 0.0, std::nullopt};
    PrometheusSnapshot::Target web;
    web.unit = "web.service";
    web.cpu_ratio = 1.5;
    web.in_failure = true;
    web.incident_open = true;
    web.probes = {{"http probe of web.service", false, 0.125}};
    snapshot.targets = {machine, web};
    snapshot.actions = {{"web.service", "restart", "failed", 1}, {"web.service", "restart", "recovered", 2}};
    snapshot.incidents = {{"web.service", "crash", "resolved", 2}};
    snapshot.recovery_seconds = {0.5, 3.5, 400};

    CHECK(render_prometheus(snapshot) ==
          "# HELP healerd_cpu_usage_ratio CPU in use: the machine's of all CPUs, a unit's of one CPU (unit=\"\" is the machine).\n"
          "# TYPE healerd_cpu_usage_ratio gauge\n"
          "healerd_cpu_usage_ratio{unit=\"\"} 0.25\n"
          "healerd_cpu_usage_ratio{unit=\"web.service\"} 1.5\n"
          "# HELP healerd_memory_usage_ratio Memory in use: of the unit's MemoryMax, else of the machine's RAM.\n"
          "# TYPE healerd_memory_usage_ratio gauge\n"
          "healerd_memory_usage_ratio{unit=\"\"} 0.5\n"
          "# HELP healerd_pressure_stall_ratio PSI some avg10: share of the last 10 s some task stalled on the resource.\n"
          "# TYPE healerd_pressure_stall_ratio gauge\n"
          "healerd_pressure_stall_ratio{resource=\"cpu\",unit=\"\"} 0.01\n"
          "healerd_pressure_stall_ratio{resource=\"memory\",unit=\"\"} 0\n"
          "# HELP healerd_in_failure 1 while healerd judges the target failed.\n"
          "# TYPE healerd_in_failure gauge\n"
          "healerd_in_failure{unit=\"\"} 0\n"
          "healerd_in_failure{unit=\"web.service\"} 1\n"
          "# HELP healerd_incident_open 1 while the target has an open incident.\n"
          "# TYPE healerd_incident_open gauge\n"
          "healerd_incident_open{unit=\"\"} 0\n"
          "healerd_incident_open{unit=\"web.service\"} 1\n"
          "# HELP healerd_probe_success 1 unless the health probe is failing.\n"
          "# TYPE healerd_probe_success gauge\n"
          "healerd_probe_success{probe=\"http probe of web.service\",unit=\"web.service\"} 0\n"
          "# HELP healerd_probe_latency_seconds Duration of the probe's latest attempt.\n"
          "# TYPE healerd_probe_latency_seconds gauge\n"
          "healerd_probe_latency_seconds{probe=\"http probe of web.service\",unit=\"web.service\"} 0.125\n"
          "# HELP healerd_incidents_total Closed incidents in the database, by unit, failure kind and outcome.\n"
          "# TYPE healerd_incidents_total counter\n"
          "healerd_incidents_total{kind=\"crash\",outcome=\"resolved\",unit=\"web.service\"} 2\n"
          "# HELP healerd_actions_total Finished recovery attempts in the database, by unit, action and result.\n"
          "# TYPE healerd_actions_total counter\n"
          "healerd_actions_total{action=\"restart\",result=\"failed\",unit=\"web.service\"} 1\n"
          "healerd_actions_total{action=\"restart\",result=\"recovered\",unit=\"web.service\"} 2\n"
          "# HELP healerd_recovery_seconds Time from a recovery action's start until its target was healthy again.\n"
          "# TYPE healerd_recovery_seconds histogram\n"
          "healerd_recovery_seconds_bucket{le=\"1\"} 1\n"
          "healerd_recovery_seconds_bucket{le=\"2\"} 1\n"
          "healerd_recovery_seconds_bucket{le=\"5\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"10\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"30\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"60\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"120\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"300\"} 2\n"
          "healerd_recovery_seconds_bucket{le=\"+Inf\"} 3\n"
          "healerd_recovery_seconds_sum 404\n"
          "healerd_recovery_seconds_count 3\n");
}

TEST_CASE("prometheus: an empty history still has its histogram, at zero") {
    CHECK(render_prometheus({}) ==
          "# HELP healerd_recovery_seconds Time from a recovery action's start until its target was healthy again.\n"
          "# TYPE healerd_recovery_seconds histogram\n"
          "healerd_recovery_seconds_bucket{le=\"1\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"2\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"5\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"10\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"30\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"60\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"120\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"300\"} 0\n"
          "healerd_recovery_seconds_bucket{le=\"+Inf\"} 0\n"
          "healerd_recovery_seconds_sum 0\n"
          "healerd_recovery_seconds_count 0\n");
}

TEST_CASE("prometheus: label values escape backslash, quote and newline") {
    CHECK(escape_label_value("plain.service") == "plain.service");
    CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
    PrometheusSnapshot snapshot;
    PrometheusSnapshot::Target target;
    target.unit = "x.service";
    target.probes = {{"exec probe \"/bin/check\" \\ of\nx", true, 0.0}};
    snapshot.targets = {target};
    CHECK_THAT(render_prometheus(snapshot),
               Catch::Contains("healerd_probe_success{probe=\"exec probe \\\"/bin/check\\\" \\\\ of\\nx\",unit=\"x.service\"} 1\n"));
}

TEST_CASE("prometheus: the file is replaced whole, with no temporary left") {
    TempDir dir;
    const auto file = dir / "healerd.prom";
    write_file_atomically(file, "old 1\n");
    write_file_atomically(file, "new 2\n");
    CHECK(read_text(file) == "new 2\n");
    CHECK_FALSE(std::filesystem::exists(dir / "healerd.prom.tmp"));
    struct stat status {};
    REQUIRE(::stat(file.c_str(), &status) == 0);
    CHECK((status.st_mode & 0644) == 0644);  // node_exporter reads it as another user
}

TEST_CASE("prometheus: a failed write names the file and leaves the old one") {
    TempDir dir;
    const auto file = dir / "healerd.prom";
    write_file_atomically(file, "old 1\n");
    std::filesystem::create_directories(dir / "healerd.prom.tmp");  // the temporary cannot be created
    CHECK_THROWS_WITH(write_file_atomically(file, "new 2\n"),
                      Catch::StartsWith((dir / "healerd.prom.tmp").string() + ": cannot create"));
    CHECK(read_text(file) == "old 1\n");
    CHECK_THROWS_AS(write_file_atomically(dir / "missing/healerd.prom", "x\n"), std::system_error);
}
