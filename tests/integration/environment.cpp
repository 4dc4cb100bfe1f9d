#include "environment.hpp"

#include <systemd/sd-bus.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace heal::integration {

namespace {

using namespace std::chrono_literals;

constexpr const char* kSessionBusVariable = "DBUS_SESSION_BUS_ADDRESS";
constexpr auto kStartTimeout = 30s;  // generous: the test machine may be busy

std::string bus_config(const std::filesystem::path& socket, BusPolicy policy) {
    std::string deny;
    if (policy.deny_mutating)
        for (const char* member : {"Recover", "Train", "SimulateFailure"})
            deny += fmt::format(R"(    <deny send_destination="org.healerd.Healer1" send_interface="org.healerd.Healer1" send_member="{}"/>
)",
                                member);
    return fmt::format(R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
{}  </policy>
</busconfig>
)",
                       socket.string(), deny);
}

template <typename Ready>
void wait_for(Ready ready, BackgroundProcess& process, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (!ready()) {
        if (!process.running())
            throw std::runtime_error(fmt::format("{} exited while starting:\n{}", what, process.log_text()));
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error(fmt::format("{} did not start within {} s:\n{}", what, kStartTimeout.count(),
                                                 process.log_text()));
        std::this_thread::sleep_for(50ms);
    }
}

bool name_has_owner(const char* name) {
    sd_bus* bus = nullptr;
    if (sd_bus_open_user(&bus) < 0) return false;
    sd_bus_message* reply = nullptr;
    int owned = 0;
    const int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "NameHasOwner", nullptr, &reply, "s", name);
    if (r >= 0) sd_bus_message_read(reply, "b", &owned);
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return owned != 0;
}

}  // namespace

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* previous = std::getenv(name_.c_str())) previous_ = previous;
    setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
    if (previous_) setenv(name_.c_str(), previous_->c_str(), 1);
    else unsetenv(name_.c_str());
}

PrivateBus::PrivateBus(const std::filesystem::path& dir, BusPolicy policy) {
    // Other uids (healctl as nobody) must reach the socket: traverse only, no listing.
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                          std::filesystem::perms::others_exec);
    const auto socket = dir / "bus";
    const auto config = dir / "bus.conf";
    write_file(config, bus_config(socket, policy));
    const auto log = dir / "dbus-daemon.log";
    daemon_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{DBUS_DAEMON_PATH, "--config-file=" + config.string(), "--nofork", "--print-address=1"},
        log);
    // The address is printed once the socket listens.
    wait_for([&] { return read_file(log).find("unix:") != std::string::npos; }, *daemon_, "dbus-daemon");
    address_ = "unix:path=" + socket.string();
    session_.emplace(kSessionBusVariable, address_);
}

std::string absent_bus_address(const std::filesystem::path& dir) {
    return "unix:path=" + (dir / "no-bus-here").string();
}

NoBus::NoBus(const std::filesystem::path& dir) : session_(kSessionBusVariable, absent_bus_address(dir)) {}

std::string test_config(double heal_chance) {
    return fmt::format(R"([Monitor]
SampleIntervalSec=200ms
Units={0}

[Recovery]
AutoRecover=no
RecoveryTimeoutSec=3s
CircuitBreakerIntervalSec=0

[Simulation]
Seed=20261203
HealChance=restart:{1} scale_up:{1} rollback:{1} do_nothing:{1}
)",
                       kWatchedUnit, heal_chance);
}

Healerd::Healerd(const std::filesystem::path& dir, const std::string& config) {
    const auto config_file = dir / "healerd.conf";
    write_file(config_file, config);
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{HEALERD_PATH, "--user", "--simulated", "--simulated-metrics", "--state-dir", (dir / "state").string(),
                                 "--config", config_file.string()},
        dir / "healerd.log");
    wait_for([] { return name_has_owner("org.healerd.Healer1"); }, *process_, "healerd");
}

Healerd::~Healerd() = default;  // BackgroundProcess stops it

DaemonEnvironment::DaemonEnvironment(BusPolicy policy) : bus(dir.path(), policy), healerd(dir.path()) {}

}  // namespace heal::integration
