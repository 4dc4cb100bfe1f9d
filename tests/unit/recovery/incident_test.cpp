#include "recovery/incident.hpp"

#include <catch2/catch.hpp>

using namespace heal;
using namespace std::chrono_literals;

namespace {
const SteadyTime t0{std::chrono::hours(1)};
IncidentOptions options() { return IncidentOptions{60s, Backoff{10s, 300s}, 5}; }
}  // namespace

TEST_CASE("backoff doubles from its initial wait and stops at its cap", "[incident]") {
    const Backoff backoff{10s, 300s};
    CHECK(backoff.after(1) == 10s);
    CHECK(backoff.after(2) == 20s);
    CHECK(backoff.after(3) == 40s);
    CHECK(backoff.after(5) == 160s);
    CHECK(backoff.after(6) == 300s);
    CHECK(backoff.after(60) == 300s);
}

TEST_CASE("an incident's first attempt is due at once, later ones after the backoff", "[incident]") {
    Incident incident("web.service", FailureKind::crash, t0, options());
    CHECK(incident.due(t0));
    incident.begin_attempt(Action::restart, t0, 7);
    CHECK_FALSE(incident.due(t0 + 1h));  // one attempt at a time
    incident.finish_attempt(AttemptResult::failed, t0 + 5s);
    CHECK(incident.state() == Incident::State::waiting);
    CHECK(incident.next_attempt_at() == t0 + 15s);
    CHECK_FALSE(incident.due(t0 + 14s));
    CHECK(incident.due(t0 + 15s));
    incident.begin_attempt(Action::rollback, t0 + 15s, 8);
    incident.finish_attempt(AttemptResult::failed, t0 + 20s);
    CHECK(incident.next_attempt_at() == t0 + 40s);  // 20 s after the second
    CHECK(incident.tried() == ActionSet().set(0).set(2));
}

TEST_CASE("healed and healthy for StableSec resolves, and MTTR runs from opening to durable health", "[incident]") {
    Incident incident("web.service", FailureKind::crash, t0, options());
    incident.begin_attempt(Action::restart, t0 + 1s, 1);
    incident.finish_attempt(AttemptResult::healed, t0 + 4s, t0 + 3s);
    CHECK(incident.state() == Incident::State::stabilizing);
    CHECK(incident.observe(false, t0 + 62s) == Incident::Change::none);
    CHECK_FALSE(incident.time_to_recover());
    CHECK(incident.observe(false, t0 + 63s) == Incident::Change::resolved);
    CHECK(incident.closed());
    CHECK(incident.time_to_recover() == Approx(3.0));
    CHECK(incident.attempts().back().result == AttemptResult::healed);
}

TEST_CASE("a failure within StableSec after a heal is a relapse of the same incident", "[incident]") {
    Incident incident("loop.service", FailureKind::crash, t0, options());
    incident.begin_attempt(Action::restart, t0, 1);
    incident.finish_attempt(AttemptResult::healed, t0 + 2s);
    CHECK(incident.observe(true, t0 + 5s) == Incident::Change::relapsed);
    CHECK_FALSE(incident.closed());
    CHECK(incident.relapses() == 1);
    CHECK(incident.attempts().back().result == AttemptResult::relapsed);
    CHECK(incident.next_attempt_at() == t0 + 15s);
    Observation seen;
    incident.describe(seen, t0 + 15s);
    CHECK(seen.attempts == 1);
    CHECK(seen.last_action == Action::restart);
    CHECK(seen.last_relapsed);
    CHECK(seen.relapses == 1);
    CHECK(seen.seconds_open == Approx(15.0));
}

TEST_CASE("the attempt budget ends an incident", "[incident]") {
    IncidentOptions few = options();
    few.max_attempts = 2;
    Incident incident("loop.service", FailureKind::crash, t0, few);
    SteadyTime now = t0;
    for (int i = 0; i < 2; ++i) {
        CHECK_FALSE(incident.exhausted());
        incident.begin_attempt(Action::restart, now, i + 1);
        incident.finish_attempt(AttemptResult::healed, now + 1s);
        now += 3s;
        CHECK(incident.observe(true, now) == Incident::Change::relapsed);
        now = *incident.next_attempt_at();
    }
    REQUIRE(incident.exhausted());
    CHECK(incident.exhausted()->find("2 attempt(s)") != std::string::npos);
    incident.give_up(*incident.exhausted());
    CHECK(incident.state() == Incident::State::given_up);
    CHECK_FALSE(incident.due(now + 1h));
    CHECK(incident.observe(false, now + 1h) == Incident::Change::none);
}

TEST_CASE("a target that leaves failure by itself resolves after StableSec with no attempt", "[incident]") {
    Incident incident("web.service", FailureKind::transient, t0, options());
    CHECK(incident.observe(false, t0 + 2s) == Incident::Change::none);
    CHECK_FALSE(incident.due(t0 + 3s));
    CHECK(incident.observe(false, t0 + 62s) == Incident::Change::resolved);
    CHECK(incident.time_to_recover() == Approx(2.0));
    CHECK(incident.attempts().empty());
}

TEST_CASE("leaving failure and coming back without an attempt is no relapse", "[incident]") {
    Incident incident("web.service", FailureKind::transient, t0, options());
    CHECK(incident.observe(false, t0 + 2s) == Incident::Change::none);
    CHECK(incident.observe(true, t0 + 5s) == Incident::Change::none);
    CHECK(incident.relapses() == 0);
    CHECK(incident.due(t0 + 5s));  // still no attempt made: the first is due at once
    incident.begin_attempt(Action::restart, t0 + 5s, 1);
    incident.finish_attempt(AttemptResult::failed, t0 + 10s);
    CHECK(incident.observe(false, t0 + 12s) == Incident::Change::none);
    CHECK(incident.observe(true, t0 + 14s) == Incident::Change::none);  // its attempt had failed
    CHECK(incident.relapses() == 0);
    CHECK(incident.next_attempt_at() == t0 + 24s);
}
