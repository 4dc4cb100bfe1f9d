// dpkg's records as the unit probe reads them: ownership from fake
// /var/lib/dpkg/info/*.list files, version changes from a fake dpkg.log.
#include "systemd/dpkg_records.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <iomanip>
#include <sstream>

#include "support/temp_dir.hpp"

using namespace heal;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

namespace {

// A dpkg.log timestamp (local time, whole seconds) for `at`.
std::string log_time(Clock::time_point at) {
    const std::time_t t = Clock::to_time_t(at);
    std::tm local{};
    localtime_r(&t, &local);
    std::ostringstream out;
    out << std::put_time(&local, "%Y-%m-%d %H:%M:%S");
    return out.str();
}

struct Dpkg {
    test::TempDir dir;
    Dpkg() {
        dir.write("info/nginx-light.list", "/.\n/usr\n/usr/sbin\n/usr/sbin/nginx\n");
        dir.write("info/dash:amd64.list", "/bin\n/bin/dash\n/bin/sh\n");
        dir.write("info/nginx-light.md5sums", "0000 usr/sbin/redis\n");  // not a .list
    }
    DpkgRecords records() { return DpkgRecords(dir.root() / "info", dir.root() / "dpkg.log"); }
};

}  // namespace

TEST_CASE("dpkg: the owner of a file, also under its /usr-less name", "[systemd][dpkg]") {
    Dpkg dpkg;
    DpkgRecords records = dpkg.records();
    CHECK(records.owner("/usr/sbin/nginx") == "nginx-light");
    CHECK(records.owner("/usr/bin/sh") == "dash");  // registered as /bin/sh; architecture dropped
    CHECK_FALSE(records.owner("/usr/sbin/redis"));  // only in a file that is not a list
    CHECK_FALSE(records.owner("/opt/app/bin/app"));
    dpkg.dir.write("info/app.list", "/opt/app/bin/app\n");  // installed since
    std::filesystem::last_write_time(dpkg.dir.root() / "info",
                                     std::filesystem::file_time_type::clock::now() + 1h);
    CHECK(records.owner("/opt/app/bin/app") == "app");
}

TEST_CASE("dpkg: a deploy is a change of version, not a first install or a reinstall", "[systemd][dpkg]") {
    const auto now = Clock::now();
    Dpkg dpkg;
    dpkg.dir.write("dpkg.log", log_time(now - 48h) + " install nginx-light:amd64 <none> 1.22.1-9\n" +
                                   log_time(now - 30h) + " upgrade nginx-light:amd64 1.22.1-9 1.22.1-9+deb12u1\n" +
                                   log_time(now - 20min) + " upgrade nginx-light:amd64 1.22.1-9+deb12u1 1.22.1-9+deb12u1\n" +
                                   log_time(now - 10min) + " install dash:amd64 <none> 0.5.12-2\n" +
                                   log_time(now - 5min) + " status installed dash:amd64 0.5.12-2\n");
    DpkgRecords records = dpkg.records();
    const auto upgrade = records.last_upgrade("nginx-light");
    REQUIRE(upgrade);
    CHECK(upgrade->from == "1.22.1-9");
    CHECK(upgrade->to == "1.22.1-9+deb12u1");
    CHECK(std::chrono::abs(upgrade->at - (now - 30h)) < 2s);
    CHECK_FALSE(records.last_upgrade("dash"));  // a first install

    dpkg.dir.write("dpkg.log", log_time(now - 2min) + " upgrade nginx-light:amd64 1.22.1-9+deb12u1 1.24.0-1\n");
    CHECK(records.last_upgrade("nginx-light")->to == "1.24.0-1");  // the log is read again when it changes
}

TEST_CASE("dpkg: freshly deployed means a new version of the program's package", "[systemd][dpkg]") {
    const auto now = Clock::now();
    Dpkg dpkg;
    dpkg.dir.write("dpkg.log", log_time(now - 10min) + " upgrade dash:amd64 0.5.11-1 0.5.12-2\n");
    const auto unit_file = dpkg.dir.write("web.service", "[Service]\n");  // written just now
    DpkgRecords records = dpkg.records();
    // nginx is owned and was not upgraded: a freshly written unit file does not make it a deploy.
    CHECK_FALSE(deployed_since(records, {"/usr/sbin/nginx"}, {unit_file, "/usr/sbin/nginx"}, now - 1h));
    CHECK(deployed_since(records, {"/bin/sh"}, {unit_file}, now - 1h));           // dash upgraded 10 min ago
    CHECK_FALSE(deployed_since(records, {"/bin/sh"}, {unit_file}, now - 5min));  // but not within 5 min
    // A program no package owns falls back to the files' change times.
    const auto program = dpkg.dir.write("opt/app", "#!/bin/sh\n");
    CHECK(deployed_since(records, {program}, {unit_file, program}, now - 1h));
    CHECK_FALSE(deployed_since(records, {program}, {unit_file, program}, now + 1h));
}

TEST_CASE("dpkg: lines that are not an upgrade to another version are skipped", "[systemd][dpkg]") {
    CHECK(parse_dpkg_upgrade("2026-01-02 03:04:05 upgrade nginx:amd64 1.0 2.0")->package == "nginx");
    CHECK_FALSE(parse_dpkg_upgrade("2026-01-02 03:04:05 upgrade nginx:amd64 2.0 2.0"));
    CHECK_FALSE(parse_dpkg_upgrade("2026-01-02 03:04:05 install nginx:amd64 <none> 2.0"));
    CHECK_FALSE(parse_dpkg_upgrade("2026-01-02 03:04:05 status installed nginx:amd64 2.0"));
    CHECK_FALSE(parse_dpkg_upgrade("yesterday upgrade nginx:amd64 1.0 2.0"));
    CHECK_FALSE(parse_dpkg_upgrade(""));
}
