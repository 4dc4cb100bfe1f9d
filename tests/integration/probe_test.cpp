// Health probes (units.d [Probe]) in the daemon: a watched unit that runs
// but does not answer is failed, with the probe's sentence in the journal and
// in healctl detect, and healthy again once it answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "environment.hpp"
#include "healctl.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string unit_state() {
    const Json status = status_of();
    for (const Json& unit : status["units"])
        if (unit["unit"] == kWatchedUnit) return unit["state"].get<std::string>();
    return "absent";
}

// A TCP socket on 127.0.0.1, listening or only bound (connections refused).
class LocalPort {
public:
    explicit LocalPort(std::uint16_t port = 0) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        REQUIRE(fd_ >= 0);
        const int yes = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(port);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);
    }
    ~LocalPort() { close(fd_); }
    LocalPort(const LocalPort&) = delete;
    LocalPort& operator=(const LocalPort&) = delete;
    void listen() { REQUIRE(::listen(fd_, 16) == 0); }
    std::uint16_t port() const { return port_; }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("a unit whose health probe fails is failed with the probe's sentence, and healthy once it answers",
          "[daemon][probe]") {
    TempDir dir;
    PrivateBus bus(dir.path());
    LocalPort service;  // bound, not listening: the "service" refuses connections
    const std::string probe = fmt::format("tcp probe 127.0.0.1:{} of {}", service.port(), kWatchedUnit);
    std::filesystem::create_directory(dir.path() / "units.d");
    write_file(dir.path() / "units.d" / fmt::format("{}.conf", kWatchedUnit),
               fmt::format("[Probe]\nProbe=tcp 127.0.0.1:{}\nProbeIntervalSec=200ms\nProbeFailureThreshold=2\n",
                           service.port()));
    // Every tick written at once, so that the replay below reads them all.
    Healerd healerd(dir.path(), test_config(1.0) + "[Storage]\nWriteIntervalSec=0\n");

    REQUIRE(eventually([] { return unit_state() == "failed"; }, 10s));
    // At least ProbeFailureThreshold=2 failures: on a loaded machine the
    // probe can fail again before the tick that judges it.
    const std::string failure = fmt::format("failure detected on {} by probe: {} failed ", kWatchedUnit, probe);
    const auto logged_failure = [&] {
        const std::string log = healerd.log();
        const auto at = log.find(failure);
        if (at == std::string::npos) return false;
        const std::string rest = log.substr(at + failure.size(), log.find('\n', at) - at - failure.size());
        return std::atoi(rest.c_str()) >= 2 && contains(rest, " times in a row (last: connection refused after ");
    };
    if (!eventually(logged_failure)) FAIL_CHECK("no such failure in healerd's log:\n" << healerd.log());
    const Json detect = json_of(healctl({"detect", "--json"}));
    bool seen = false;
    for (const Json& verdict : detect["verdicts"]) {
        if (verdict["metric"] != fmt::format("unit:{}:probe", kWatchedUnit)) continue;
        seen = true;
        CHECK(verdict["anomalous"] == true);
        CHECK(verdict["threshold"] == 1000.0);  // the default ProbeTimeoutSec=, in ms
        CHECK(contains(verdict["reason"].get<std::string>(), probe + " failed"));
    }
    CHECK(seen);
    const RunResult text = healctl({"detect"});
    CHECK(contains(text.out, "connection refused"));
    CHECK(contains(text.out, " ms "));  // latency and timeout in milliseconds, not percent

    service.listen();
    REQUIRE(eventually([] { return unit_state() == "healthy"; }, 10s));
    CHECK(contains(healerd.log(), probe + " succeeded once"));

    // The stored history says so too, and a replay of it raises the failure again.
    const RunResult replay = healctl({"replay", "--json", "--unit", kWatchedUnit, "--config",
                                      healerd.config_file().string(), "--database", healerd.database().string()});
    INFO(replay.describe());
    REQUIRE(replay.exit_code == 0);
    const Json targets = json_of(replay)["targets"];
    REQUIRE(targets.size() == 1);
    CHECK(targets[0]["stored_failures"] == 1);
    CHECK(targets[0]["replayed_failures"] == 1);
}
