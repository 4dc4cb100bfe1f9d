#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "systemd/hook_rollback.hpp"
#include "systemd_test_support.hpp"
#include "support/skip.hpp"

using namespace heal;

namespace {

constexpr const char* kScript = "#!/bin/sh\nexit 0\n";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("resolve_hook finds a unit's hook in a hook directory", "[hook]") {
    test::TempDir dir;
    const auto hook = dir.write("rollback.d/nginx.service", kScript, 0755);
    CHECK(resolve_hook(dir.root() / "rollback.d", "nginx.service") == hook);
    CHECK_THROWS_WITH(resolve_hook(dir.root() / "rollback.d", "redis.service"),
                      "no rollback hook for redis.service: " + (dir.root() / "rollback.d/redis.service").string() +
                          " does not exist");
    // A unit name never reaches outside the directory.
    CHECK_THROWS_AS(resolve_hook(dir.root() / "rollback.d", "../rollback.d/nginx.service"), HookError);
}

TEST_CASE("resolve_hook takes a single file as the hook for every unit", "[hook]") {
    test::TempDir dir;
    const auto hook = dir.write("global-hook", kScript, 0750);
    CHECK(resolve_hook(hook, "nginx.service") == hook);
    CHECK(resolve_hook(hook, "redis.service") == hook);
}

TEST_CASE("resolve_hook refuses hooks that are unsafe to run as root", "[hook]") {
    test::TempDir dir;
    const auto plain = dir.write("plain", kScript, 0644);
    CHECK_THROWS_WITH(resolve_hook(plain, "a.service"), "rollback hook " + plain.string() + " is not executable");
    const auto shared = dir.write("shared", kScript, 0775);
    CHECK_THROWS_WITH(resolve_hook(shared, "a.service"),
                      "rollback hook " + shared.string() + " is writable by group or others; refusing to run it");
    std::filesystem::create_directories(dir.root() / "rollback.d/a.service");
    CHECK_THROWS_WITH(resolve_hook(dir.root() / "rollback.d", "a.service"),
                      "rollback hook " + (dir.root() / "rollback.d/a.service").string() + " is not a regular file");
    CHECK_THROWS_WITH(resolve_hook("", "a.service"), "no rollback hook is configured");
}

TEST_CASE("the hook learns the unit and the failure from its environment", "[hook]") {
    const RecoveryRequest request{.unit = "nginx.service", .kind = FailureKind::bad_deploy, .reason = "died twice"};
    CHECK(hook_environment(request) == std::vector<std::string>{"HEALERD_UNIT=nginx.service",
                                                                "HEALERD_FAILURE_KIND=bad_deploy",
                                                                "HEALERD_REASON=died twice"});
    const PackageUpgrade upgrade{"nginx-light", "1.22.1-9", "1.22.1-9+deb12u1", std::chrono::system_clock::now()};
    CHECK(hook_environment(request, upgrade) ==
          std::vector<std::string>{"HEALERD_UNIT=nginx.service", "HEALERD_FAILURE_KIND=bad_deploy",
                                   "HEALERD_REASON=died twice", "HEALERD_PACKAGE=nginx-light",
                                   "HEALERD_PREVIOUS_VERSION=1.22.1-9", "HEALERD_VERSION=1.22.1-9+deb12u1"});
}

TEST_CASE("each hook run gets a unique, valid transient unit name", "[hook]") {
    const auto first = hook_unit_name("web@blue.service");
    const auto second = hook_unit_name("web@blue.service");
    CHECK(first != second);
    CHECK(first.rfind("healerd-rollback-web_blue-", 0) == 0);
    CHECK(first.ends_with(".service"));
    CHECK(first.find('@') == std::string::npos);
}

TEST_CASE("describe_hook_exit tells how the hook ended", "[hook]") {
    const std::filesystem::path hook = "/etc/healerd/rollback.d/nginx.service";
    const std::string unit = "healerd-rollback-nginx-1-0.service";
    const std::string who = "rollback hook /etc/healerd/rollback.d/nginx.service (healerd-rollback-nginx-1-0.service)";
    const std::chrono::seconds timeout{60};
    CHECK(describe_hook_exit(hook, unit, {"success", 1, 0}, timeout) == who + " succeeded");
    CHECK(describe_hook_exit(hook, unit, {"exit-code", 1, 3}, timeout) == who + " exited with status 3");
    CHECK(describe_hook_exit(hook, unit, {"signal", 2, SIGTERM}, timeout) == who + " was killed by signal SIGTERM");
    CHECK(describe_hook_exit(hook, unit, {"timeout", 2, SIGTERM}, timeout) == who + " timed out after 60s");
    CHECK(describe_hook_exit(hook, unit, {"resources", 0, 0}, timeout) == who + " failed: resources");
}

TEST_CASE("rollback without a hook does nothing and says so", "[hook]") {
    test::TempDir dir;
    HookRollbackExecutor rollback(systemd::BusScope::system, {.hook = dir.root(), .timeout = std::chrono::seconds(5), .dry_run = false});
    const auto result = rollback.execute({.unit = "nginx.service", .kind = FailureKind::bad_deploy, .reason = ""});
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.detail, Catch::StartsWith("no rollback hook for nginx.service"));
}

TEST_CASE("a dry-run rollback names the hook it would run", "[hook]") {
    test::TempDir dir;
    const auto hook = dir.write("nginx.service", kScript, 0755);
    HookRollbackExecutor rollback(systemd::BusScope::system, {.hook = dir.root(), .timeout = std::chrono::seconds(5), .dry_run = true});
    const auto result = rollback.execute({.unit = "nginx.service", .kind = FailureKind::bad_deploy, .reason = ""});
    CHECK(result.ok);
    CHECK(result.detail == "dry-run: would run rollback hook " + hook.string() + " for nginx.service");
}

// ---- against the running system manager (skipped without one) ----

TEST_CASE("live: the hook runs as a transient unit with the failure in its environment", "[hook][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TempDir dir;
    const auto out = dir.root() / "ran";
    dir.write("hooks/app.service",
              "#!/bin/sh\necho \"$1|$HEALERD_UNIT|$HEALERD_FAILURE_KIND|$HEALERD_REASON|$INVOCATION_ID\" > " +
                  out.string() + "\necho rolled back\n",
              0755);
    HookRollbackExecutor rollback(systemd::BusScope::system, {.hook = dir.root() / "hooks", .timeout = std::chrono::seconds(30), .dry_run = false});
    const auto result = rollback.execute({.unit = "app.service", .kind = FailureKind::bad_deploy, .reason = "bad"});
    CHECK(result.ok);
    CHECK_THAT(result.detail, Catch::EndsWith(" succeeded"));
    const auto ran = read_file(out);
    CHECK_THAT(ran, Catch::StartsWith("app.service|app.service|bad_deploy|bad|"));
    CHECK(ran.size() > std::string("app.service|app.service|bad_deploy|bad|\n").size());  // ran under systemd
}

TEST_CASE("live: a failing hook fails the rollback with its exit status", "[hook][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TempDir dir;
    const auto hook = dir.write("hook", "#!/bin/sh\necho cannot roll back >&2\nexit 3\n", 0755);
    HookRollbackExecutor rollback(systemd::BusScope::system, {.hook = hook, .timeout = std::chrono::seconds(30), .dry_run = false});
    const auto result = rollback.execute({.unit = "app.service", .kind = FailureKind::bad_deploy, .reason = ""});
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.detail, Catch::EndsWith(" exited with status 3"));
}

TEST_CASE("live: a hook that outlives its timeout is stopped by systemd", "[hook][live]") {
    if (!test::live_systemd()) {
        HEAL_SKIP("needs root and a running systemd");
    }
    test::TempDir dir;
    const auto hook = dir.write("hook", "#!/bin/sh\nexec sleep 60\n", 0755);
    HookRollbackExecutor rollback(systemd::BusScope::system, {.hook = hook, .timeout = std::chrono::seconds(1), .dry_run = false});
    const auto result = rollback.execute({.unit = "app.service", .kind = FailureKind::bad_deploy, .reason = ""});
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.detail, Catch::EndsWith(" timed out after 1s"));
}
