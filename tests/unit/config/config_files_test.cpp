// Which files the configuration is read from: only regular ones, and the
// per-unit files of units.d/.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;

namespace {

// The ConfigError that loading `main` raises.
ConfigError error_loading(const std::filesystem::path& main) {
    try {
        load_config(main, false);
    } catch (const ConfigError& e) {
        return e;
    }
    FAIL("no ConfigError loading " << main);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a FIFO drop-in is refused without waiting for a writer", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=a.service\n");
    const auto fifo = dir / "healerd.conf.d/10-fifo.conf";
    std::filesystem::create_directories(fifo.parent_path());
    REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
    const ConfigError error = error_loading(main);
    CHECK(error.file() == fifo);
    CHECK(std::string(error.what()) == fifo.string() + ": cannot read: a FIFO, not a regular file");
}

TEST_CASE("a directory named like a drop-in is refused, not skipped", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "");
    dir.write("healerd.conf.d/20-real.conf", "[Monitor]\nUnits=a.service\n");
    std::filesystem::create_directories(dir / "healerd.conf.d/10-dir.conf");
    CHECK(std::string(error_loading(main).what()) ==
          (dir / "healerd.conf.d/10-dir.conf").string() + ": cannot read: a directory, not a regular file");
}

TEST_CASE("symlinks: to a regular file fine, dangling or looping an error naming it", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "");
    const auto target = dir.write("elsewhere/web.conf", "[Monitor]\nUnits=web.service\n");
    std::filesystem::create_directories(dir / "healerd.conf.d");
    std::filesystem::create_symlink(target, dir / "healerd.conf.d/10-web.conf");
    CHECK(load_config(main, true).units == std::vector<std::string>{"web.service"});

    SECTION("dangling") {
        const auto dangling = dir / "healerd.conf.d/20-gone.conf";
        std::filesystem::create_symlink(dir / "absent.conf", dangling);
        CHECK(std::string(error_loading(main).what()) ==
              dangling.string() + ": cannot read: No such file or directory");
    }
    SECTION("a loop among drop-ins") {
        const auto a = dir / "healerd.conf.d/20-a.conf", b = dir / "healerd.conf.d/30-b.conf";
        std::filesystem::create_symlink(b, a);
        std::filesystem::create_symlink(a, b);
        const ConfigError error = error_loading(main);
        CHECK(error.file() == a);
        CHECK(std::string(error.what()) == a.string() + ": cannot read: Too many levels of symbolic links");
    }
    SECTION("a looping main file is not taken for an absent one") {
        const auto loop = dir / "loop.conf";
        std::filesystem::create_symlink(loop, loop);
        CHECK(std::string(error_loading(loop).what()) ==
              loop.string() + ": cannot read: Too many levels of symbolic links");
    }
    SECTION("a looping drop-in directory") {
        const auto other = dir / "other.conf";
        std::filesystem::create_symlink(dir / "other.conf.d", dir / "other.conf.d");
        CHECK(std::string(error_loading(other).what()) ==
              (dir / "other.conf.d").string() + ": cannot read: Too many levels of symbolic links");
    }
    SECTION("a drop-in directory that is a file") {
        const auto other = dir.write("other.conf", "");
        dir.write("other.conf.d", "");
        CHECK(std::string(error_loading(other).what()) ==
              (dir / "other.conf.d").string() + ": cannot list: a regular file, not a directory");
    }
}

TEST_CASE("units.d holds per-unit settings, drop-ins after the file", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=web.service\n");
    dir.write("units.d/web.service.conf", "# the demo is there to be broken\n[Unit]\nAllowFaultInjection=yes\n");
    CHECK(unit_settings_directory(main) == dir / "units.d");
    {
        const Config config = load_config(main, true);
        CHECK(config.settings_of("web.service").allow_fault_injection);
        CHECK_FALSE(config.settings_of("db.service").allow_fault_injection);
        CHECK(config.unit_settings.size() == 1);
    }
    dir.write("units.d/web.service.conf.d/10-off.conf", "[Unit]\nAllowFaultInjection=no\n");
    CHECK_FALSE(load_config(main, true).settings_of("web.service").allow_fault_injection);
    dir.write("units.d/web.service.conf.d/20-on.conf", "[Unit]\nAllowFaultInjection=on\n");
    dir.write("units.d/web.service.conf.d/notes.txt", "not a drop-in\n");
    CHECK(load_config(main, true).settings_of("web.service").allow_fault_injection);
    // Drop-ins apply without the unit's own file too.
    dir.write("units.d/db.service.conf.d/50-allow.conf", "[Unit]\nAllowFaultInjection=true\n");
    dir.write("units.d/README", "units.d holds NAME.conf files\n");
    CHECK(load_config(main, true).settings_of("db.service").allow_fault_injection);
}

TEST_CASE("a unit's StableSec= overrides [Recovery]'s for that unit only", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=web.service db.service\n[Recovery]\nStableSec=30\n");
    dir.write("units.d/db.service.conf", "[Unit]\nStableSec=10min\n");
    const Config config = load_config(main, true);
    CHECK(config.incident_options("db.service").stable == std::chrono::minutes(10));
    CHECK(config.incident_options("web.service").stable == std::chrono::seconds(30));
    CHECK(config.incident_options("").stable == std::chrono::seconds(30));
    CHECK(config.incident_options("db.service").max_attempts == config.incident.max_attempts);
}

TEST_CASE("a bad units.d file names itself, its line and key", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "");
    SECTION("a file not named after a unit") {
        const auto bad = dir.write("units.d/nginx.conf", "[Unit]\nAllowFaultInjection=yes\n");
        const ConfigError error = error_loading(main);
        CHECK(error.file() == bad);
        CHECK(std::string(error.what()) ==
              bad.string() + ": 'nginx' is not a unit name (like nginx.service): name the file after the unit");
    }
    SECTION("a drop-in directory not named after a unit") {
        const auto bad = dir.write("units.d/web.conf.d/10.conf", "[Unit]\nAllowFaultInjection=yes\n");
        CHECK(error_loading(main).file() == bad.parent_path());
    }
    SECTION("a bad value") {
        const auto bad = dir.write("units.d/web.service.conf", "[Unit]\n\nAllowFaultInjection=maybe\n");
        const ConfigError error = error_loading(main);
        CHECK(error.file() == bad);
        CHECK(error.line() == 3);
        CHECK_THAT(error.what(), Catch::Contains("[Unit] AllowFaultInjection=maybe: must be a boolean"));
    }
    SECTION("a main-file key") {
        dir.write("units.d/web.service.conf", "[Monitor]\nUnits=a.service\n");
        CHECK_THAT(error_loading(main).what(),
                   Catch::EndsWith("web.service.conf:2: unknown section [Monitor] (key Units)"));
    }
    SECTION("an unknown key, in a drop-in") {
        dir.write("units.d/web.service.conf.d/10.conf", "[Unit]\nAllowEverything=yes\n");
        CHECK_THAT(error_loading(main).what(),
                   Catch::EndsWith("10.conf:2: unknown key AllowEverything in section [Unit]"));
    }
    SECTION("a FIFO") {
        std::filesystem::create_directories(dir / "units.d");
        REQUIRE(mkfifo((dir / "units.d/web.service.conf").c_str(), 0644) == 0);
        CHECK_THAT(error_loading(main).what(),
                   Catch::EndsWith("web.service.conf: cannot read: a FIFO, not a regular file"));
    }
}

TEST_CASE("the shipped units.d lets the demo be broken", "[config]") {
    const std::filesystem::path etc = std::filesystem::path(HEAL_FIXTURES_DIR) / "../../etc";
    const Config config = load_config(etc / "healerd.conf", true);
    CHECK(config.settings_of("healerd-demo.service").allow_fault_injection);
    CHECK(config.unit_settings.size() == 1);
}

TEST_CASE("healerd.conf(5) documents every key", "[config]") {
    std::ifstream in(std::filesystem::path(HEAL_FIXTURES_DIR) / "../../docs/man/healerd.conf.5");
    REQUIRE(in);
    const std::string page{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto keys = config_keys();
    const auto unit_keys = unit_config_keys();
    keys.insert(keys.end(), unit_keys.begin(), unit_keys.end());
    for (const auto& [section, key] : keys) {
        INFO(section << "." << key);
        CHECK(page.find(".BI " + std::string(key) + "=") != std::string::npos);
        CHECK(page.find(".SH [" + std::string(section) + "] SECTION") != std::string::npos);
    }
}
