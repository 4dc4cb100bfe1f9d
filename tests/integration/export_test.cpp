// The Prometheus textfile export end to end: healerd writes the file after an
// automatic recovery, and Debian's prometheus-node-exporter, the real
// consumer, serves the same series from it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "environment.hpp"
#include "healctl.hpp"
#include "support/skip.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";

// What the file must hold after one recovered memory failure of the machine
// (the ladder's scale_up, every simulated action healing).
const std::vector<std::string> kRecoveredSeries = {
    "healerd_actions_total{action=\"scale_up\",result=\"recovered\",unit=\"\"} 1\n",
    "healerd_incidents_total{kind=\"memory_leak\",outcome=\"resolved\",unit=\"\"} 1\n",
    "healerd_recovery_seconds_count 1\n",
    "healerd_recovery_seconds_bucket{le=\"+Inf\"} 1\n",
    "healerd_in_failure{unit=\"\"} 0\n",
    "healerd_incident_open{unit=\"\"} 0\n",
    "healerd_in_failure{unit=\"demo.service\"} 0\n",
    "healerd_incident_open{unit=\"demo.service\"} 0\n",
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
    return count;
}

bool holds_every(const std::string& text, const std::vector<std::string>& series) {
    for (const std::string& line : series)
        if (!contains(text, line)) return false;
    return true;
}

std::string export_config(const std::filesystem::path& file) {
    return test_config(1.0) + kAutoRecover + "[Export]\nPrometheusTextfile=" + file.string() +
           "\nExportIntervalSec=1s\n";
}

// Recovers an injected failure of the machine and waits until the incident is resolved.
void recover_machine() {
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    REQUIRE(eventually([] {
        const Json incidents = json_of(healctl({"incidents", "--json"}));
        return !incidents.empty() && incidents.back()["outcome"] == "resolved";
    }));
}

// A loopback port nobody listens on now.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    ::close(fd);
    return ntohs(address.sin_port);
}

// GET http://127.0.0.1:PORT/metrics; the whole response, or "" when nobody answers.
std::string scrape(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    std::string response;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
            char buffer[65536];
            for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
                response.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return response;
}

}  // namespace

TEST_CASE("the Prometheus textfile holds the recovery's counters and the gauges, written whole",
          "[daemon][export]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    const auto textfiles = dir.path() / "textfile";
    std::filesystem::create_directories(textfiles);
    const auto file = textfiles / "healerd.prom";
    Healerd healerd(dir.path(), export_config(file));
    REQUIRE(eventually([&] { return std::filesystem::exists(file); }));
    CHECK(contains(read_file(file), "healerd_recovery_seconds_count 0\n"));

    recover_machine();
    std::string text;
    const bool written = eventually([&] {
        text = read_file(file);
        return holds_every(text, kRecoveredSeries);
    });
    INFO(text);
    CHECK(written);
    CHECK(contains(text, "# TYPE healerd_actions_total counter\n"));
    CHECK(contains(text, "# TYPE healerd_recovery_seconds histogram\n"));
    CHECK(contains(text, "healerd_cpu_usage_ratio{unit=\"\"} "));
    for (const auto& entry : std::filesystem::directory_iterator(textfiles))
        CHECK(entry.path().filename() == "healerd.prom");  // no temporary left behind
}

TEST_CASE("an export that cannot be written is logged once, ticks go on, and it is written once it can",
          "[daemon][export]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    const auto textfiles = dir.path() / "not-yet";  // the write fails until the directory exists
    Healerd healerd(dir.path(), export_config(textfiles / "healerd.prom"));
    REQUIRE(eventually([&] { return contains(healerd.log(), "cannot export metrics, retrying every 1s: "); }));
    // Ticks go on: the detectors still see the machine fail.
    REQUIRE(healctl({"simulate-failure"}).exit_code == 0);
    CHECK(eventually([] { return status_of()["health"] == "failed"; }));

    std::filesystem::create_directories(textfiles);
    REQUIRE(eventually([&] { return contains(healerd.log(), "writing " + (textfiles / "healerd.prom").string() +
                                                                " works again"); }));
    CHECK(std::filesystem::exists(textfiles / "healerd.prom"));
    CHECK(occurrences(healerd.log(), "cannot export metrics") == 1);  // once per outage, not once a tick
    CHECK(healerd.process().running());
}

TEST_CASE("prometheus-node-exporter serves the healerd series from the textfile", "[daemon][export]") {
    if (!std::filesystem::exists(kNodeExporter)) HEAL_SKIP("prometheus-node-exporter is not installed");
    TempDir dir;
    PrivateBus bus(dir.path());
    const auto textfiles = dir.path() / "textfile";
    std::filesystem::create_directories(textfiles);
    Healerd healerd(dir.path(), export_config(textfiles / "healerd.prom"));
    const int port = free_port();
    BackgroundProcess exporter({kNodeExporter, "--collector.textfile.directory=" + textfiles.string(),
                                "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                "--collector.disable-defaults", "--collector.textfile"},
                               dir.path() / "node-exporter.log");

    recover_machine();
    std::string scraped;
    const bool served = eventually([&] {
        scraped = scrape(port);
        return holds_every(scraped, kRecoveredSeries);
    });
    INFO(scraped << "\nnode_exporter log:\n" << exporter.log_text());
    CHECK(served);
    CHECK(scraped.starts_with("HTTP/1.0 200 OK\r\n"));  // the version of the request
    CHECK(contains(scraped, "# TYPE healerd_recovery_seconds histogram\n"));
    CHECK(contains(scraped, "node_textfile_scrape_error 0\n"));
    CHECK_FALSE(contains(scraped, "\nnode_textfile_scrape_error 1\n"));  // its HELP line says "1 if there was an error"
}
