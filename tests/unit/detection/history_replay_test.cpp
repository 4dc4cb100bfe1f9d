#include <catch2/catch.hpp>

#include "detection/history_replay.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

constexpr MachineShape kMachine{4, 16ull << 30};
const TimePoint kT0{std::chrono::seconds(1'717'243'200)};

DetectionOf defaults() {
    return [](const std::string&) { return DetectionConfig{}; };
}

// A reading as the daemon's tick has it, with every field detection reads set.
TargetReading running(const std::string& unit, double cpu = 5.0) {
    TargetReading reading{unit, true, cpu, 20.0};
    reading.memory_max_bytes = 512ull << 20;
    reading.memory_high_bytes = 400ull << 20;
    reading.cpu_limit_percent = 200.0;
    reading.runnable_threads = 1;
    reading.cpu_pressure = Pressure{.avg10 = 1.5, .total_us = 0, .full_avg10 = 0.25};
    reading.memory_pressure = Pressure{.avg10 = 2.5, .total_us = 0, .full_avg10 = 1.0};
    reading.io_pressure = Pressure{.avg10 = 3.5, .total_us = 0, .full_avg10 = std::nullopt};
    reading.automatic_restarts = 4;
    return reading;
}

MetricRecord stored(const TargetReading& reading, TimePoint time, bool healthy = true) {
    return MetricRecord{.timestamp = time,
                        .cpu = reading.cpu,
                        .memory = reading.memory.value_or(0.0),
                        .healthy = healthy,
                        .unit = reading.unit,
                        .detail = detail_of(reading)};
}

TargetReading down(const std::string& unit) { return TargetReading{unit, false, 0.0, std::nullopt}; }

// `seconds` stored ticks of the machine and web.service, one a second from `from`.
void replay_ticks(HistoryReplay& replay, TimePoint from, int seconds, const TargetReading& web) {
    for (int s = 0; s < seconds; ++s) {
        const TimePoint time = from + std::chrono::seconds(s);
        const std::vector<MetricRecord> tick{stored(TargetReading{"", true, 10.0, 30.0}, time), stored(web, time)};
        replay.tick(tick);
    }
}

}  // namespace

TEST_CASE("a stored reading comes back as detection was given it", "[replay][history]") {
    TargetReading reading = running("web.service");
    reading.probes = {ProbeReading{"http probe A", false, 3.0, 1000.0, "ok"},
                      ProbeReading{"tcp probe B", true, 0.0, 1000.0, "refused"}};
    const std::optional<TargetReading> back = reading_of(stored(reading, kT0));
    REQUIRE(back);
    TargetReading expected = reading;
    // The probes come back as one verdict.
    expected.probes = {ProbeReading{std::string(kStoredProbeName), true, 0.0, 0.0,
                                    "a probe was failing when this tick was stored"}};
    CHECK(*back == expected);

    reading.probes = {ProbeReading{"http probe A", false, 3.0, 1000.0, "ok"}};
    REQUIRE(reading_of(stored(reading, kT0)));
    CHECK_FALSE(reading_of(stored(reading, kT0))->probes.at(0).failing);
    reading.probes.clear();
    CHECK(reading_of(stored(reading, kT0))->probes.empty());

    MetricRecord old = stored(reading, kT0);
    old.detail.reset();
    CHECK_FALSE(reading_of(old));
}

TEST_CASE("a replay raises what the settings would have raised, and counts the stored failures",
          "[replay][history]") {
    HistoryReplay replay(defaults(), kMachine, 10s);
    replay_ticks(replay, kT0, 5, running("web.service"));
    // Down for 4 s: a failure after InactiveForSec= (2 s); stored as Failed for 2 ticks.
    for (int s = 5; s < 9; ++s) {
        const TimePoint time = kT0 + std::chrono::seconds(s);
        const std::vector<MetricRecord> tick{stored(TargetReading{"", true, 10.0, 30.0}, time),
                                             stored(down("web.service"), time, s < 7)};
        replay.tick(tick);
    }
    replay_ticks(replay, kT0 + 9s, 3, running("web.service"));

    REQUIRE(replay.failures().size() == 1);
    const ReplayedFailure& failure = replay.failures()[0];
    CHECK(failure.event.unit == "web.service");
    CHECK(failure.event.signal == "active");
    CHECK(failure.time == kT0 + 7s);  // 2 s after the first tick down
    REQUIRE(replay.tallies().size() == 2);
    CHECK(replay.tallies()[0].unit.empty());
    CHECK(replay.tallies()[0].ticks == 12);
    CHECK(replay.tallies()[0].replayed_failures == 0);
    const ReplayTally& web = replay.tallies()[1];
    CHECK(web.unit == "web.service");
    CHECK(web.ticks == 12);
    CHECK(web.stored_failures == 1);
    CHECK(web.replayed_failures == 1);
    CHECK(replay.restarts() == 0);

    SECTION("other settings judge the same history differently") {
        HistoryReplay patient([](const std::string&) {
            DetectionConfig config;
            config.inactive_for_sec = 10.0;
            return config;
        }, kMachine, 10s);
        replay_ticks(patient, kT0, 5, running("web.service"));
        for (int s = 5; s < 9; ++s) {
            const std::vector<MetricRecord> tick{stored(down("web.service"), kT0 + std::chrono::seconds(s), false)};
            patient.tick(tick);
        }
        CHECK(patient.failures().empty());
        CHECK(patient.tallies().at(1).stored_failures == 1);
        CHECK(patient.tallies().at(1).replayed_failures == 0);
    }
}

TEST_CASE("a stored failing probe fails a running unit in the replay", "[replay][history]") {
    HistoryReplay replay(defaults(), kMachine, 10s);
    TargetReading web = running("web.service");
    web.probes = {ProbeReading{"http probe", false, 1.0, 1000.0, "ok"}};
    replay_ticks(replay, kT0, 3, web);
    CHECK(replay.failures().empty());
    web.probes[0].failing = true;
    replay_ticks(replay, kT0 + 3s, 1, web);
    REQUIRE(replay.failures().size() == 1);
    CHECK(replay.failures()[0].event.signal == "probe");
}

TEST_CASE("a replay starts its detectors over at a gap in the history, as healerd did", "[replay][history]") {
    // A unit down for 1.5 s, healerd stopped for a minute, down 1.5 s more:
    // never 2 s down in a row while healerd watched.
    HistoryReplay replay(defaults(), kMachine, 10s);
    replay_ticks(replay, kT0, 3, running("web.service"));
    replay.tick(std::vector{stored(down("web.service"), kT0 + 3s)});
    replay.tick(std::vector{stored(down("web.service"), kT0 + 4500ms)});
    replay.tick(std::vector{stored(down("web.service"), kT0 + 64500ms)});
    replay.tick(std::vector{stored(down("web.service"), kT0 + 66s)});
    CHECK(replay.failures().empty());
    CHECK(replay.restarts() == 1);

    SECTION("and at a clock that went backwards") {
        replay.tick(std::vector{stored(down("web.service"), kT0 + 30s)});
        CHECK(replay.restarts() == 2);
    }
}

TEST_CASE("a replay watches units as they appear and skips rows stored without detail", "[replay][history]") {
    HistoryReplay replay(defaults(), kMachine, 10s);
    replay_ticks(replay, kT0, 2, running("web.service"));
    MetricRecord old = stored(running("db.service"), kT0 + 2s);
    old.detail.reset();
    replay.tick(std::vector{old, stored(down("cache.service"), kT0 + 2s)});
    for (int s = 3; s < 6; ++s) replay.tick(std::vector{stored(down("cache.service"), kT0 + std::chrono::seconds(s))});
    CHECK(replay.rows_without_detail() == 1);
    REQUIRE(replay.failures().size() == 1);
    CHECK(replay.failures()[0].event.unit == "cache.service");
    REQUIRE(replay.tallies().size() == 3);  // the machine, web and cache; db had no detail
    CHECK(replay.tallies()[2].unit == "cache.service");
    CHECK(replay.tallies()[2].ticks == 4);
}
