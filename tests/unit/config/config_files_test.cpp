// Which files the configuration is read from: only regular ones.
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
        CHECK(std::string(error_loading(main).what()) == dangling.string() + ": cannot read: No such file or directory");
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
        CHECK(std::string(error_loading(loop).what()) == loop.string() + ": cannot read: Too many levels of symbolic links");
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

TEST_CASE("healerd.conf(5) documents every key", "[config]") {
    std::ifstream in(std::filesystem::path(HEAL_FIXTURES_DIR) / "../../docs/man/healerd.conf.5");
    REQUIRE(in);
    const std::string page{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (const auto& [section, key] : config_keys()) {
        INFO(section << "." << key);
        CHECK(page.find(".BI " + std::string(key) + "=") != std::string::npos);
        CHECK(page.find(".SH [" + std::string(section) + "] SECTION") != std::string::npos);
    }
}
