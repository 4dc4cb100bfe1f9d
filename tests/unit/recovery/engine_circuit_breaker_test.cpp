#include <catch2/catch.hpp>

#include "recovery/circuit_breaker.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {
const CircuitBreaker::Time t0{std::chrono::hours(10)};
}

TEST_CASE("the breaker opens after a burst of failed recoveries", "[engine][breaker]") {
    CircuitBreaker breaker(3, 600s);
    breaker.record("web.service", false, t0);
    breaker.record("web.service", false, t0 + 10s);
    CHECK_FALSE(breaker.open_until("web.service", t0 + 20s));
    breaker.record("web.service", false, t0 + 20s);
    const auto until = breaker.open_until("web.service", t0 + 30s);
    REQUIRE(until);
    CHECK(*until == t0 + 600s);  // when the first failure leaves the interval
    CHECK_FALSE(breaker.open_until("db.service", t0 + 30s));  // per target
    CHECK_FALSE(breaker.open_until("web.service", t0 + 600s));
}

TEST_CASE("failures spread wider than the interval never open it", "[engine][breaker]") {
    CircuitBreaker breaker(2, 60s);
    breaker.record("", false, t0);
    breaker.record("", false, t0 + 61s);
    CHECK_FALSE(breaker.open_until("", t0 + 62s));
}

TEST_CASE("a successful recovery closes the breaker", "[engine][breaker]") {
    CircuitBreaker breaker(2, 600s);
    breaker.record("", false, t0);
    breaker.record("", false, t0 + 1s);
    REQUIRE(breaker.open_until("", t0 + 2s));
    breaker.record("", true, t0 + 3s);
    CHECK_FALSE(breaker.open_until("", t0 + 4s));
}

TEST_CASE("an interval of 0 turns the breaker off, and limits can change", "[engine][breaker]") {
    CircuitBreaker breaker(1, 0s);
    breaker.record("", false, t0);
    CHECK_FALSE(breaker.open_until("", t0));
    breaker.reconfigure(2, 60s);
    breaker.record("", false, t0 + 1s);
    breaker.record("", false, t0 + 2s);
    CHECK(breaker.open_until("", t0 + 3s) == t0 + 61s);
    breaker.reconfigure(5, 60s);
    CHECK_FALSE(breaker.open_until("", t0 + 3s));
}

TEST_CASE("each opening and closing of a breaker is reported once", "[engine][breaker]") {
    using Change = CircuitBreaker::Change;
    CircuitBreaker breaker(2, 60s);
    breaker.record("web.service", false, t0);
    CHECK(breaker.changes(t0).empty());
    breaker.record("web.service", false, t0 + 1s);
    breaker.record("", false, t0 + 1s);
    breaker.record("", false, t0 + 2s);
    CHECK(breaker.changes(t0 + 2s) == std::vector<Change>{{"", true}, {"web.service", true}});
    CHECK(breaker.changes(t0 + 3s).empty());

    breaker.record("", true, t0 + 4s);  // a success closes it
    CHECK(breaker.changes(t0 + 4s) == std::vector<Change>{{"", false}});
    CHECK(breaker.changes(t0 + 61s) == std::vector<Change>{{"web.service", false}});  // the first failure aged out
    CHECK(breaker.changes(t0 + 62s).empty());
}
