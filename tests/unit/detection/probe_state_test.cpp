#include <catch2/catch.hpp>

#include "detection/probe_state.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

ProbeResult ok(std::chrono::microseconds latency = 300us) { return ProbeResult{true, latency, ""}; }
ProbeResult failed(std::string error = "connection refused", std::chrono::microseconds latency = 200us) {
    return ProbeResult{false, latency, std::move(error)};
}

}  // namespace

TEST_CASE("probe state: unknown until a threshold is reached", "[probe]") {
    ProbeState state(3, 1);
    CHECK(state.health() == ProbeHealth::unknown);
    CHECK_FALSE(state.last());
    CHECK_FALSE(state.record(failed()));
    CHECK_FALSE(state.record(failed()));
    CHECK(state.health() == ProbeHealth::unknown);
    CHECK(state.consecutive_failures() == 2);
    CHECK(state.record(ok()));
    CHECK(state.health() == ProbeHealth::healthy);
    CHECK(state.consecutive_failures() == 0);
    CHECK(state.consecutive_successes() == 1);
}

TEST_CASE("probe state: failing after failureThreshold failures in a row, not before", "[probe]") {
    ProbeState state(3, 1);
    REQUIRE(state.record(ok()));
    CHECK_FALSE(state.record(failed()));
    CHECK_FALSE(state.record(failed()));
    CHECK_FALSE(state.record(ok()));  // a success in between starts the count again
    CHECK_FALSE(state.record(failed()));
    CHECK_FALSE(state.record(failed()));
    CHECK(state.health() == ProbeHealth::healthy);
    CHECK(state.consecutive_failures() == 2);
    CHECK(state.record(failed("timed out", 200ms)));
    CHECK(state.health() == ProbeHealth::failing);
    CHECK(state.consecutive_failures() == 3);
    CHECK(state.consecutive_successes() == 0);
    CHECK_FALSE(state.record(failed()));  // still failing: no change to report
    CHECK(state.consecutive_failures() == 4);
}

TEST_CASE("probe state: healthy again after successThreshold successes in a row, not before", "[probe]") {
    ProbeState state(1, 3);
    REQUIRE(state.record(failed()));
    CHECK(state.health() == ProbeHealth::failing);
    CHECK_FALSE(state.record(ok()));
    CHECK_FALSE(state.record(ok()));
    CHECK_FALSE(state.record(failed()));  // a failure in between starts the count again
    CHECK_FALSE(state.record(ok()));
    CHECK_FALSE(state.record(ok()));
    CHECK(state.health() == ProbeHealth::failing);
    CHECK(state.consecutive_successes() == 2);
    CHECK(state.record(ok()));
    CHECK(state.health() == ProbeHealth::healthy);
    CHECK(state.consecutive_successes() == 3);
}

TEST_CASE("probe state: the last result keeps its latency and error", "[probe]") {
    ProbeState state(3, 1);
    state.record(failed("HTTP 500, expected 200-399", 1500us));
    REQUIRE(state.last());
    CHECK(state.last()->latency == 1500us);
    CHECK(state.last()->error == "HTTP 500, expected 200-399");
    CHECK_FALSE(state.last()->success);
}

TEST_CASE("probe state: thresholds of 0 are refused", "[probe]") {
    CHECK_THROWS_AS(ProbeState(0, 1), std::invalid_argument);
    CHECK_THROWS_AS(ProbeState(1, 0), std::invalid_argument);
}

TEST_CASE("probe state: a sentence for the operator", "[probe]") {
    const std::string subject = "http probe http://127.0.0.1:8080/healthz of web.service";
    ProbeState state(3, 1);
    CHECK(state.sentence(subject) == subject + " has not run yet");
    state.record(failed());
    CHECK(state.sentence(subject) == subject + " failed once (last: connection refused after 0.2 ms)");
    state.record(failed());
    state.record(failed());
    CHECK(state.sentence(subject) == subject + " failed 3 times in a row (last: connection refused after 0.2 ms)");
    state.record(ok(2500ms));
    CHECK(state.sentence(subject) == subject + " succeeded once (last after 2.5 s)");
    state.record(ok(1234us));
    CHECK(state.sentence(subject) == subject + " succeeded 2 times in a row (last after 1.2 ms)");
}
