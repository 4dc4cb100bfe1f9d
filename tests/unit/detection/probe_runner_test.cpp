#include <catch2/catch.hpp>

#include <poll.h>

#include "detection/probe_loop.hpp"
#include "detection/probe_runner.hpp"

using namespace heal;
using namespace heal::test;
using namespace std::chrono_literals;

namespace {

ProbeOptions thresholds(std::uint32_t failure, std::uint32_t success) {
    ProbeOptions options = fast_options();
    options.failure_threshold = failure;
    options.success_threshold = success;
    return options;
}

// A connection waits in `socket`'s backlog.
bool connection_pending(const LocalSocket& socket) {
    pollfd watched{socket.fd(), POLLIN, 0};
    return poll(&watched, 1, 0) == 1;
}

}  // namespace

TEST_CASE("probe tcp: a listening port is healthy", "[probe]") {
    EventLoop loop;
    LocalSocket listening(true);
    Changes changes;
    ProbeRunner runner(loop.get(), changes.callback());
    const ProbeSpec spec = probe("tcp " + listening.address());
    runner.reconfigure({spec});
    REQUIRE(loop.run_until([&] { return runner.probes()[0].state.consecutive_successes() == 2; }));
    CHECK(runner.probes()[0].state.health() == ProbeHealth::healthy);
    CHECK(runner.probes()[0].state.consecutive_failures() == 0);
    CHECK(changes.seen == std::vector<std::pair<std::string, ProbeHealth>>{{describe(spec), ProbeHealth::healthy}});
}

TEST_CASE("probe tcp: a closed port is refused and fails after failureThreshold attempts", "[probe]") {
    EventLoop loop;
    LocalSocket closed(false);
    Changes changes;
    ProbeRunner runner(loop.get(), changes.callback());
    runner.reconfigure({probe("tcp " + closed.address(), thresholds(3, 1))});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return state.consecutive_failures() == 2; }));
    CHECK(state.health() == ProbeHealth::unknown);
    CHECK(changes.seen.empty());
    REQUIRE(loop.run_until([&] { return state.health() == ProbeHealth::failing; }));
    CHECK(state.consecutive_failures() == 3);
    REQUIRE(state.last());
    CHECK(state.last()->error == "connection refused");
    CHECK(changes.seen.size() == 1);
}

TEST_CASE("probe http: a server that accepts but never answers times out", "[probe]") {
    EventLoop loop;
    LocalSocket silent(true);  // the kernel completes connections; nobody answers
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({probe("http http://" + silent.address() + "/healthz", thresholds(2, 1))});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return state.health() == ProbeHealth::failing; }));
    CHECK(state.consecutive_failures() == 2);
    CHECK(state.last()->error == "timed out");
}

TEST_CASE("probe http: 200 is healthy, 500 is failing", "[probe]") {
    EventLoop loop;
    HttpResponder server(loop.get(), {200, 200, 500});
    Changes changes;
    ProbeRunner runner(loop.get(), changes.callback());
    const ProbeSpec spec = probe("http " + server.url("/healthz?deep=1"), thresholds(1, 1));
    runner.reconfigure({spec});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return changes.seen.size() == 2; }));
    CHECK(changes.seen == std::vector<std::pair<std::string, ProbeHealth>>{{describe(spec), ProbeHealth::healthy},
                                                                            {describe(spec), ProbeHealth::failing}});
    CHECK(server.answered() == 3);
    CHECK(state.last()->error == "HTTP 500, expected 200-399");
    CHECK(state.sentence(describe(spec)).starts_with(
        "http probe " + server.url("/healthz?deep=1") + " of web.service failed once (last: HTTP 500, expected 200-399 after "));
    const std::string& request = server.last_request();
    CHECK(request.starts_with("GET /healthz?deep=1 HTTP/1.1\r\n"));
    CHECK(request.find("\r\nHost: " + server.url("").substr(7) + "\r\n") != std::string::npos);
    CHECK(request.find("\r\nConnection: close\r\n") != std::string::npos);
}

TEST_CASE("probe http: the expected status range decides success", "[probe]") {
    EventLoop loop;
    HttpResponder server(loop.get(), {404, 200});
    ProbeOptions options = thresholds(1, 1);
    options.expect = parse_status_range("404");
    Changes changes;
    ProbeRunner runner(loop.get(), changes.callback());
    runner.reconfigure({probe("http " + server.url(), options)});
    const ProbeState& state = runner.probes()[0].state;
    REQUIRE(loop.run_until([&] { return changes.seen.size() == 2; }));
    CHECK(changes.seen[0].second == ProbeHealth::healthy);
    CHECK(changes.seen[1].second == ProbeHealth::failing);
    CHECK(state.last()->error == "HTTP 200, expected 404-404");
}

TEST_CASE("probe: nothing runs before the initial delay", "[probe]") {
    EventLoop loop;
    LocalSocket listening(true);
    ProbeOptions delayed = fast_options();
    delayed.initial_delay = 1h;
    ProbeRunner runner(loop.get(), {});
    runner.reconfigure({probe("tcp " + listening.address()), probe("tcp " + listening.address(), delayed)});
    REQUIRE(loop.run_until([&] { return runner.probes()[0].state.consecutive_successes() == 3; }));
    CHECK_FALSE(runner.probes()[1].state.last());
    CHECK(runner.probes()[1].state.health() == ProbeHealth::unknown);
}

TEST_CASE("probe: reconfigure keeps the state of unchanged probes and restarts changed ones", "[probe]") {
    EventLoop loop;
    LocalSocket closed(false), listening(true);
    ProbeRunner runner(loop.get(), {});
    const ProbeSpec refused = probe("tcp " + closed.address(), thresholds(100, 1));
    runner.reconfigure({refused});
    REQUIRE(loop.run_until([&] { return runner.probes()[0].state.consecutive_failures() == 2; }));

    const ProbeSpec added = probe("tcp " + listening.address());
    runner.reconfigure({added, refused});
    REQUIRE(runner.probes().size() == 2);
    CHECK(runner.probes()[0].spec == added);
    CHECK_FALSE(runner.probes()[0].state.last());
    CHECK(runner.probes()[1].state.consecutive_failures() == 2);
    REQUIRE(loop.run_until([&] { return runner.probes()[1].state.consecutive_failures() == 4; }));

    SECTION("an invalid or repeated spec changes nothing") {
        ProbeSpec bad = refused;
        bad.options.failure_threshold = 0;
        CHECK_THROWS_WITH(runner.reconfigure({added, bad}),
                          describe(bad) + ": options.failure_threshold must be at least 1");
        CHECK_THROWS_WITH(runner.reconfigure({refused, refused}), describe(refused) + " is given twice");
        REQUIRE(runner.probes().size() == 2);
        CHECK(runner.probes()[1].state.consecutive_failures() == 4);
    }
    SECTION("a changed spec starts afresh") {
        ProbeSpec changed = refused;
        changed.options.failure_threshold = 99;
        runner.reconfigure({changed});
        REQUIRE(runner.probes().size() == 1);
        CHECK_FALSE(runner.probes()[0].state.last());
    }
}

TEST_CASE("probe: destroying the runner closes its sockets", "[probe]") {
    EventLoop loop;
    LocalSocket silent(true);
    loop.create_timer_fd();
    const std::size_t fds = open_fds();
    {
        ProbeRunner runner(loop.get(), {});
        ProbeOptions slow = fast_options();
        slow.timeout = 1h;
        runner.reconfigure({probe("http http://" + silent.address() + "/", slow)});
        REQUIRE(loop.run_until([&] { return connection_pending(silent); }));
        CHECK(open_fds() > fds);
    }
    CHECK(open_fds() == fds);
}

TEST_CASE("probe: restart starts the unit's probes over from unknown, after their initial delay", "[probe]") {
    EventLoop loop;
    LocalSocket closed(false);
    Changes changes;
    ProbeRunner runner(loop.get(), changes.callback());
    ProbeOptions delayed = thresholds(2, 1);
    delayed.initial_delay = std::chrono::milliseconds(1000);
    runner.reconfigure({probe("tcp " + closed.address(), delayed),
                        probe("tcp " + closed.address(), delayed, "db.service")});
    const ProbeState& web = runner.probes()[0].state;
    const ProbeState& db = runner.probes()[1].state;
    REQUIRE(loop.run_until([&] { return web.health() == ProbeHealth::failing && db.health() == ProbeHealth::failing; },
                           5000ms));

    runner.restart("web.service");
    CHECK(runner.probes()[0].state.health() == ProbeHealth::unknown);
    CHECK(runner.probes()[0].state.consecutive_failures() == 0);
    CHECK(runner.probes()[1].state.health() == ProbeHealth::failing);  // another unit's probe goes on
    // Within the initial delay nothing runs; after it, the failures count again.
    loop.run_until([] { return false; }, std::chrono::milliseconds(150));
    CHECK_FALSE(runner.probes()[0].state.last());
    REQUIRE(loop.run_until([&] { return runner.probes()[0].state.health() == ProbeHealth::failing; }, 5000ms));
}
