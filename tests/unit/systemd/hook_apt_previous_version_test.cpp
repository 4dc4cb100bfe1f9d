// The example Debian rollback hook (etc/rollback.d/apt-previous-version), run
// against stand-ins for systemctl, dpkg-query and apt that answer for one
// package, app-core, upgraded from 1.0-1 to the installed 2.0-1.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "systemd_test_support.hpp"

namespace {

const std::filesystem::path kHook =
    std::filesystem::path(HEAL_FIXTURES_DIR).parent_path().parent_path() / "etc/rollback.d/apt-previous-version";

constexpr const char* kStubs[][2] = {
    {"systemctl",
     "#!/bin/sh\n"
     "case \"$1 $2 $3\" in\n"
     "  'show -P ExecStart') echo '{ path=/usr/sbin/app ; argv[]=/usr/sbin/app --serve ; ignore_errors=no }' ;;\n"
     "  'show -P FragmentPath') echo /usr/lib/systemd/system/app.service ;;\n"
     "  *) echo \"systemctl $*\" >> \"$CALLS\" ;;\n"
     "esac\n"},
    {"dpkg-query",
     "#!/bin/sh\n"
     "case \"$1 $2\" in\n"
     "  '-S /usr/sbin/app') echo 'app-core: /usr/sbin/app' ;;\n"
     "  '-S /lib/systemd/system/app.service') echo 'app-common: /lib/systemd/system/app.service' ;;\n"
     "  '-W -f=${Version}') [ \"$3\" = app-core ] && printf 2.0-1 ;;\n"
     "  *) exit 1 ;;\n"
     "esac\n"},
    {"apt-cache", "#!/bin/sh\n[ -z \"$NO_REPOSITORY\" ] && [ \"$2\" = app-core=1.0-1 ]\n"},
    {"apt-get", "#!/bin/sh\necho \"apt-get $*\" >> \"$CALLS\"\n"},
    {"apt-mark", "#!/bin/sh\necho \"apt-mark $*\" >> \"$CALLS\"\n"},
    {"dpkg", "#!/bin/sh\necho \"dpkg $*\" >> \"$CALLS\"\n"},
};

struct HookRun {
    int status = -1;
    std::string out;
    std::string err;
    std::string calls;
};

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class FakeDebian {
public:
    FakeDebian() {
        for (const auto& [name, script] : kStubs) dir_.write(std::string("bin/") + name, script, 0755);
        // Oldest first: a rotated, compressed log with an older upgrade, the
        // previous log with the upgrade to the installed version, and today's.
        dir_.write("log/dpkg.log.2", "2024-01-01 10:00:00 upgrade app-core:amd64 0.9-1 1.0-1\n");
        REQUIRE(std::system(("gzip " + (dir_.root() / "log/dpkg.log.2").string()).c_str()) == 0);
        dir_.write("log/dpkg.log.1",
                   "2024-02-01 10:00:00 upgrade app-core:amd64 1.0-1 2.0-1\n"
                   "2024-02-01 10:00:01 status installed app-core:amd64 2.0-1\n");
        dir_.write("log/dpkg.log", "2024-03-01 10:00:00 upgrade tzdata:all 2024a-1 2024b-1\n");
        std::filesystem::create_directories(dir_.root() / "archives");
    }

    void write(const std::string& relative, const std::string& contents) { dir_.write(relative, contents); }

    HookRun run(const std::string& arguments, const std::string& extra_env = "") {
        const auto& root = dir_.root();
        const auto command = "PATH=" + (root / "bin").string() + ":/usr/bin:/bin CALLS=" + (root / "calls").string() +
                             " DPKG_LOG_DIR=" + (root / "log").string() + " APT_ARCHIVES=" +
                             (root / "archives").string() + " HEALERD_FAILURE_KIND=bad_deploy HEALERD_REASON=died " +
                             extra_env + " sh " + kHook.string() + " " + arguments + " >" + (root / "out").string() +
                             " 2>" + (root / "err").string();
        const int raw = std::system(command.c_str());
        HookRun result;
        result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
        result.out = slurp(root / "out");
        result.err = slurp(root / "err");
        result.calls = slurp(root / "calls");
        return result;
    }

private:
    heal::test::TempDir dir_;
};

}  // namespace

TEST_CASE("apt-previous-version --dry-run names the version dpkg replaced", "[hook][apt]") {
    FakeDebian debian;
    const auto run = debian.run("--dry-run app.service");
    CHECK(run.status == 0);
    CHECK_THAT(run.out, Catch::Contains("app.service: app-core 2.0-1 -> 1.0-1 (bad_deploy: died)"));
    CHECK_THAT(run.out, Catch::Contains("would run: apt-get install -y -q --allow-downgrades "
                                        "-o Dpkg::Options::=--force-confold app-core=1.0-1"));
    CHECK(run.calls.empty());
}

TEST_CASE("apt-previous-version downgrades, holds and restarts", "[hook][apt]") {
    FakeDebian debian;
    const auto run = debian.run("app.service");
    CHECK(run.status == 0);
    CHECK(run.calls ==
          "apt-get install -y -q --allow-downgrades -o Dpkg::Options::=--force-confold app-core=1.0-1\n"
          "apt-mark hold app-core\n"
          "systemctl restart app.service\n");
}

TEST_CASE("apt-previous-version falls back to apt's cached deb", "[hook][apt]") {
    FakeDebian debian;
    debian.write("archives/app-core_1.0-1_amd64.deb", "");
    const auto run = debian.run("app.service", "NO_REPOSITORY=1");
    CHECK(run.status == 0);
    CHECK_THAT(run.calls, Catch::StartsWith("dpkg -i --force-confold "));
    CHECK_THAT(run.calls, Catch::Contains("archives/app-core_1.0-1_amd64.deb\n"));
}

TEST_CASE("apt-previous-version refuses when there is nothing to roll back to", "[hook][apt]") {
    FakeDebian debian;
    debian.write("log/dpkg.log.1", "2024-02-01 10:00:00 install app-core:amd64 <none> 2.0-1\n");
    const auto run = debian.run("app.service");
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("dpkg's log names no upgrade of app-core to 2.0-1: nothing to roll back to"));
    CHECK(run.calls.empty());
}

TEST_CASE("apt-previous-version refuses a version it cannot get", "[hook][apt]") {
    FakeDebian debian;
    const auto run = debian.run("app.service", "NO_REPOSITORY=1");
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("app-core 1.0-1 is neither in a repository nor in"));
}

TEST_CASE("apt-previous-version needs a unit", "[hook][apt]") {
    FakeDebian debian;
    CHECK(debian.run("").status == 2);
}
