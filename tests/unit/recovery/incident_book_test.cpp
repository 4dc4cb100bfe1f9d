#include "recovery/incident_book.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

const SteadyTime t0{std::chrono::hours(1)};
const IncidentOptions kOptions{60s, Backoff{10s, 300s}, 5};

TargetStatus status_of(const std::string& unit, bool failed) {
    TargetStatus status;
    status.unit = unit;
    status.observed = true;
    status.failed = failed;
    return status;
}

// A book over a fresh store, fed one target's health tick by tick.
struct Fixture {
    test::TempDir dir;
    Store store{dir / "heal.db"};
    CircuitBreaker breaker{3, 600s};
    IncidentBook book{store, breaker};

    void tick(bool failed, SteadyTime now, bool busy = false) {
        book.track({status_of("web.service", failed)}, [&](const std::string&) { return busy; },
                   [](const std::string&) { return kOptions; }, now);
    }
    std::int64_t attempt(Action action, SteadyTime now) {
        ActionRecord record;
        record.timestamp = std::chrono::system_clock::now();
        record.action = action;
        record.unit = "web.service";
        record.failure_kind = FailureKind::crash;
        return book.begin_attempt(record, now);
    }
    std::vector<IncidentNews::Kind> news() {
        std::vector<IncidentNews::Kind> kinds;
        for (const IncidentNews& news : book.take_news()) kinds.push_back(news.kind);
        return kinds;
    }
};

using Kind = IncidentNews::Kind;

}  // namespace

TEST_CASE("incident book: a failure opens one stored incident, resolved once healthy for StableSec after a heal",
          "[incident]") {
    Fixture f;
    f.tick(false, t0);
    CHECK(f.book.find("web.service") == nullptr);
    f.tick(true, t0 + 1s);
    f.tick(true, t0 + 2s);  // still the same incident
    CHECK(f.news() == std::vector{Kind::opened});
    REQUIRE(f.book.active("web.service"));
    CHECK(f.book.due(t0 + 2s) == std::vector<std::string>{"web.service"});

    const std::int64_t id = f.attempt(Action::restart, t0 + 2s);
    const auto stored = f.store.recent_actions(1);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].id == id);
    CHECK(stored[0].phase == AttemptPhase::running);  // written before it runs
    const auto incidents = f.store.recent_incidents(10);
    REQUIRE(incidents.size() == 1);
    CHECK(stored[0].incident_id == incidents[0].id);
    CHECK(incidents[0].attempts == 1);

    f.book.finish_attempt("web.service", AttemptResult::healed, t0 + 4s, t0 + 4s);
    f.tick(false, t0 + 5s);
    f.tick(false, t0 + 63s);
    CHECK(f.book.active("web.service"));  // 59 s healthy: not yet durable
    f.tick(false, t0 + 64s);
    CHECK(f.news() == std::vector{Kind::resolved});
    CHECK(f.book.find("web.service") == nullptr);
    const IncidentRecord resolved = f.store.recent_incidents(1).at(0);
    CHECK(resolved.outcome == IncidentOutcome::resolved);
    CHECK(resolved.healthy_since.has_value());
}

TEST_CASE("incident book: a relapse within StableSec is the same incident, marks the attempt and counts against the "
          "breaker",
          "[incident]") {
    Fixture f;
    f.tick(true, t0);
    f.news();
    const std::int64_t id = f.attempt(Action::restart, t0);
    ActionRecord healed = f.store.recent_actions(1).at(0);
    healed.phase = AttemptPhase::done;
    healed.recovered = true;
    healed.recovery_time = 2.0;
    f.store.finish_attempt(healed);
    f.book.finish_attempt("web.service", AttemptResult::healed, t0 + 2s, t0 + 2s);
    f.tick(false, t0 + 3s);
    f.tick(true, t0 + 10s);  // 8 s after healing
    CHECK(f.news() == std::vector{Kind::relapsed});
    REQUIRE(f.book.active("web.service"));
    CHECK(f.book.active("web.service")->relapses() == 1);
    CHECK(f.store.recent_incidents(10).size() == 1);
    CHECK(f.store.recent_actions(1).at(0).id == id);
    CHECK(f.store.recent_actions(1).at(0).relapsed);

    // Two more failures open the breaker (burst 3): the relapse was the first.
    f.book.finish_attempt("web.service", AttemptResult::failed, t0 + 20s);
    CHECK_FALSE(f.breaker.open_until("web.service", t0 + 21s));
    f.book.finish_attempt("web.service", AttemptResult::failed, t0 + 30s);
    CHECK(f.breaker.open_until("web.service", t0 + 31s));
}

TEST_CASE("incident book: a dry run's give-up is stored as such and does not count against the breaker",
          "[incident]") {
    Fixture f;
    for (int i = 0; i < 3; ++i) {
        f.tick(true, t0 + std::chrono::seconds(i * 100));
        f.book.give_up("web.service", "would restart", true);
        f.tick(false, t0 + std::chrono::seconds(i * 100 + 50));  // out of failure: the next one is new
    }
    CHECK(f.news() == std::vector{Kind::opened, Kind::given_up, Kind::opened, Kind::given_up, Kind::opened,
                                  Kind::given_up});
    const auto incidents = f.store.recent_incidents(10);
    REQUIRE(incidents.size() == 3);
    for (const IncidentRecord& record : incidents) CHECK(record.outcome == IncidentOutcome::dry_run);
    CHECK_FALSE(f.breaker.open_until("web.service", t0 + 300s));

    f.tick(true, t0 + 400s);
    f.book.give_up("web.service", "nothing left to try", false);
    CHECK(f.store.recent_incidents(1).at(0).outcome == IncidentOutcome::given_up);
}

TEST_CASE("incident book: a given-up incident stays while the target fails, and a target no longer watched is "
          "interrupted unless an attempt runs",
          "[incident]") {
    Fixture f;
    f.tick(true, t0);
    f.book.give_up("web.service", "budget spent", false);
    f.tick(true, t0 + 5s);
    REQUIRE(f.book.find("web.service"));
    CHECK(f.book.active("web.service") == nullptr);
    CHECK(f.store.recent_incidents(10).size() == 1);  // no new incident while still failed

    f.tick(false, t0 + 6s);
    f.tick(true, t0 + 7s);
    const auto unwatched = [&](bool busy) {
        f.book.track({}, [&](const std::string&) { return busy; }, [](const std::string&) { return kOptions; },
                     t0 + 8s);
    };
    unwatched(true);
    CHECK(f.book.active("web.service"));
    unwatched(false);
    CHECK(f.book.find("web.service") == nullptr);
    const IncidentRecord record = f.store.recent_incidents(1).at(0);
    CHECK(record.outcome == IncidentOutcome::interrupted);
    CHECK(record.detail == "the target is no longer watched");
}
