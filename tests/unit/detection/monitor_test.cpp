#include <catch2/catch.hpp>

#include "detection/monitor.hpp"

using namespace heal;

namespace {

AdaptiveDetectorConfig detector(std::size_t consecutive = 3) {
    AdaptiveDetectorConfig config;
    config.consecutive = consecutive;
    return config;
}

TargetReading machine(double cpu, double memory = 30.0) { return TargetReading{"", true, cpu, memory}; }
TargetReading unit(const std::string& name, double cpu, std::optional<double> memory = 15.0, bool present = true) {
    return TargetReading{name, present, cpu, memory};
}

// Feeds `count` quiet ticks so the detectors leave warm-up.
void settle(Monitor& monitor, int count = 20) {
    for (int i = 0; i < count; ++i) monitor.observe({machine(10.0 + i % 3), unit("web.service", 2.0 + i % 2)});
}

}  // namespace

TEST_CASE("a metric fails after the consecutive rule and recovers at the first normal value", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(3));
    settle(monitor);
    CHECK(monitor.healthy());

    CHECK(monitor.observe({machine(97.0), unit("web.service", 2.0)}).empty());
    CHECK(monitor.observe({machine(97.0), unit("web.service", 2.0)}).empty());
    CHECK(monitor.target("")->cpu_anomalous);
    CHECK_FALSE(monitor.target("")->failed);

    const auto events = monitor.observe({machine(98.0), unit("web.service", 2.0)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].unit == "");
    CHECK(events[0].metric == "cpu");
    CHECK(events[0].value == 98.0);
    CHECK(events[0].threshold == 50.0);  // the floor binds over a quiet baseline
    CHECK_THAT(events[0].reason, Catch::Contains("3 in a row"));
    CHECK(monitor.target("")->failed);
    CHECK_FALSE(monitor.healthy());
    CHECK(monitor.failure_count() == 1);

    // Still failed, no new event while it lasts.
    CHECK(monitor.observe({machine(99.0), unit("web.service", 2.0)}).empty());
    CHECK(monitor.failure_count() == 1);

    monitor.observe({machine(11.0), unit("web.service", 2.0)});
    CHECK(monitor.healthy());
    CHECK(monitor.target("")->failure_count == 1);
}

TEST_CASE("a unit that is not running fails after the consecutive rule", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(2));
    CHECK(monitor.target("web.service")->state() == "unknown");
    settle(monitor);
    CHECK(monitor.target("web.service")->state() == "healthy");
    CHECK(monitor.observe({machine(10.0), unit("web.service", 0.0, std::nullopt, false)}).empty());
    const TargetStatus* web = monitor.target("web.service");
    CHECK_FALSE(web->failed);
    CHECK(web->state() == "down");
    REQUIRE(web->verdicts.size() == 1);
    CHECK(web->verdicts[0].metric == "unit:web.service:active");
    CHECK(web->verdicts[0].anomalous);

    const auto events = monitor.observe({machine(10.0), unit("web.service", 0.0, std::nullopt, false)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].unit == "web.service");
    CHECK(events[0].metric == "active");
    CHECK(events[0].reason == "web.service is not running");
    CHECK(monitor.target("web.service")->failed);
    CHECK(monitor.target("web.service")->state() == "failed");
    CHECK_FALSE(monitor.target("web.service")->observation().unit_active);

    monitor.observe({machine(10.0), unit("web.service", 2.0)});
    CHECK_FALSE(monitor.target("web.service")->failed);
    CHECK(monitor.target("web.service")->present);
}

TEST_CASE("each target's observation is what the policy sees", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(1));
    settle(monitor);
    monitor.observe({machine(10.0), unit("web.service", 2.0, 99.0)});
    const Observation obs = monitor.target("web.service")->observation();
    CHECK(obs.cpu_percent == 2.0);
    CHECK(obs.memory_percent == 99.0);
    CHECK(obs.memory_anomalous);
    CHECK_FALSE(obs.cpu_anomalous);
    CHECK(obs.failure_count == 1);
    CHECK(obs.unit_active);
    CHECK_FALSE(obs.recent_package_change);
}

TEST_CASE("readings of unwatched units and missing readings are ignored", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(1));
    monitor.observe({machine(10.0), unit("other.service", 100.0)});
    CHECK_FALSE(monitor.target("web.service")->observed);
    CHECK(monitor.target("")->observed);
    CHECK(monitor.target("other.service") == nullptr);
    CHECK(monitor.targets().size() == 2);
    CHECK(monitor.targets().front().unit.empty());
}

TEST_CASE("peek judges without recording", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(1));
    settle(monitor);
    const auto verdicts = monitor.peek(99.0, std::nullopt);
    REQUIRE(verdicts.size() == 4);
    CHECK(verdicts[0].metric == "cpu");
    CHECK(verdicts[0].value == 99.0);
    CHECK(verdicts[0].anomalous);
    CHECK(verdicts[1].metric == "memory");
    CHECK(verdicts[1].value == 30.0);  // the latest reading
    CHECK_FALSE(verdicts[1].anomalous);
    CHECK(verdicts[2].metric == "unit:web.service:cpu");
    CHECK(verdicts[3].metric == "unit:web.service:memory");
    CHECK(monitor.healthy());
    CHECK(monitor.failure_count() == 0);
    // The detector did not learn 99: the next real value is still judged the same.
    CHECK_FALSE(monitor.peek(std::nullopt, std::nullopt)[0].anomalous);
}

TEST_CASE("reconfiguring keeps history unless the detector settings change", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(1));
    settle(monitor);
    monitor.observe({machine(99.0), unit("web.service", 2.0)});
    REQUIRE(monitor.failure_count() == 1);

    monitor.reconfigure({"web.service", "db.service"}, detector(1));
    CHECK(monitor.targets().size() == 3);
    CHECK(monitor.target("")->failed);  // state kept
    CHECK(monitor.target("web.service")->observed);
    CHECK_FALSE(monitor.target("db.service")->observed);

    monitor.reconfigure({"db.service"}, detector(2));
    CHECK(monitor.target("web.service") == nullptr);
    CHECK_FALSE(monitor.target("")->failed);             // detectors restarted
    CHECK(monitor.target("")->failure_count == 1);       // the policy's history stays
    CHECK(monitor.failure_count() == 1);
}

TEST_CASE("readings come from a sample in percent", "[engine][monitor]") {
    Sample sample;
    sample.system.cpu_percent = 12.5;
    sample.system.memory_percent = 40.0;
    UnitSample limited;
    limited.unit = "limited.service";
    limited.present = true;
    limited.cpu_percent = 150.0;  // of one CPU: may exceed 100
    limited.memory_bytes = 256ull << 20;
    limited.memory_max_bytes = 512ull << 20;
    UnitSample unlimited;
    unlimited.unit = "unlimited.service";
    unlimited.present = true;
    unlimited.memory_bytes = 1ull << 30;
    UnitSample stopped;
    stopped.unit = "stopped.service";
    sample.units = {limited, unlimited, stopped};

    const auto readings = readings_from(sample, 4ull << 30);
    REQUIRE(readings.size() == 4);
    CHECK(readings[0] == TargetReading{"", true, 12.5, 40.0});
    CHECK(readings[1] == TargetReading{"limited.service", true, 150.0, 50.0});
    CHECK(readings[2] == TargetReading{"unlimited.service", true, 0.0, 25.0});
    CHECK(readings[3] == TargetReading{"stopped.service", false, 0.0, std::nullopt});

    // Without the machine's RAM total, an unlimited unit's memory is not judged.
    CHECK_FALSE(readings_from(sample, 0)[2].memory);
}

TEST_CASE("a tick's metric records: watched targets in order, failed while in failure", "[engine][monitor]") {
    Monitor monitor({"web.service", "db.service"}, detector(1));
    settle(monitor);
    const std::vector<TargetReading> readings{machine(99.0, 40.0), unit("other.service", 5.0),
                                              unit("web.service", 2.5), unit("db.service", 0.0, std::nullopt, false)};
    monitor.observe(readings);
    const TimePoint time{std::chrono::seconds(1'717'243'200)};

    const std::vector<MetricRecord> records = metric_records(readings, monitor, time);
    REQUIRE(records.size() == 3);  // other.service is not watched
    CHECK(records[0].unit.empty());
    CHECK(records[0].cpu == 99.0);
    CHECK(records[0].memory == 40.0);
    CHECK_FALSE(records[0].healthy);
    CHECK(records[1].unit == "web.service");
    CHECK(records[1].cpu == 2.5);
    CHECK(records[1].memory == 15.0);
    CHECK(records[1].healthy);
    CHECK(records[2].unit == "db.service");
    CHECK(records[2].memory == 0.0);  // no reading
    CHECK_FALSE(records[2].healthy);   // not running, with consecutive = 1
    for (const MetricRecord& record : records) CHECK(record.timestamp == time);
}

TEST_CASE("a leak that grows from the start fails at the memory ceiling, not before", "[engine][monitor]") {
    Monitor monitor({"leak.service"}, detector(3));
    // A steady ramp from the unit's start: each value stays within mean + k·σ of the ones before it.
    std::vector<FailureEvent> events;
    double memory = 1.0;
    for (; memory < 95.0 && events.empty(); memory += 1.0)
        events = monitor.observe({machine(10.0), unit("leak.service", 2.0, memory)});
    REQUIRE(events.empty());
    CHECK_FALSE(monitor.target("leak.service")->failed);

    events = monitor.observe({machine(10.0), unit("leak.service", 2.0, 95.5)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].metric == "memory");
    CHECK_THAT(events[0].reason, Catch::Contains("is at or above the 95.0% ceiling"));
    CHECK(monitor.target("leak.service")->failed);
    const auto peeked = monitor.peek(std::nullopt, std::nullopt);
    CHECK(std::any_of(peeked.begin(), peeked.end(), [](const Verdict& v) { return v.failure && v.threshold == 95.0; }));

    // A raised limit brings the percentage down: healthy again.
    monitor.observe({machine(10.0), unit("leak.service", 2.0, 60.0)});
    CHECK_FALSE(monitor.target("leak.service")->failed);
}

TEST_CASE("a unit that was stopped or exited cleanly is not a failure", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(1));
    settle(monitor);
    TargetReading stopped = unit("web.service", 0.0, std::nullopt, false);
    stopped.stopped = true;
    for (int i = 0; i < 5; ++i) CHECK(monitor.observe({machine(10.0), stopped}).empty());
    CHECK_FALSE(monitor.target("web.service")->failed);
    CHECK(monitor.target("web.service")->state() == "stopped");
    CHECK_THAT(monitor.target("web.service")->verdicts.at(0).reason, Catch::Contains("is stopped"));
    const auto peeked = monitor.peek(std::nullopt, std::nullopt);
    CHECK(std::none_of(peeked.begin(), peeked.end(), [](const Verdict& v) { return v.anomalous; }));

    // Gone without a clean stop (killed, failed): a failure as before.
    const auto events = monitor.observe({machine(10.0), unit("web.service", 0.0, std::nullopt, false)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].metric == "active");
}

TEST_CASE("a running unit whose health probe is failing is failed, with the probe's sentence", "[engine][monitor]") {
    Monitor monitor({"web.service"}, detector(3));
    settle(monitor);
    const ProbeReading answering{"http probe http://127.0.0.1:8080/ of web.service", false, 0.4, 1000.0, "ok"};
    ProbeReading hung = answering;
    hung.failing = true;
    hung.latency_ms = 1000.0;
    hung.sentence = "http probe http://127.0.0.1:8080/ of web.service failed 3 times in a row (last: timed out)";
    const auto with_probe = [](const ProbeReading& probe, bool present = true) {
        TargetReading reading = unit("web.service", 0.0, 15.0, present);
        reading.probes = {probe};
        return reading;
    };

    CHECK(monitor.observe({machine(10.0), with_probe(answering)}).empty());
    const TargetStatus* web = monitor.target("web.service");
    CHECK(web->state() == "healthy");
    REQUIRE(web->verdicts.size() == 3);
    CHECK(web->verdicts[2].metric == "unit:web.service:probe");
    CHECK(web->verdicts[2].value == 0.4);  // its latency, against its timeout
    CHECK(web->verdicts[2].threshold == 1000.0);

    // At 0 % CPU, nothing else is anomalous: the probe alone, at once (its own thresholds waited).
    const auto events = monitor.observe({machine(10.0), with_probe(hung)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].metric == "probe");
    CHECK(events[0].reason == hung.sentence);
    CHECK(web->failed);
    CHECK(web->observation().unit_active);
    CHECK(monitor.peek(std::nullopt, std::nullopt).back().failure);

    monitor.observe({machine(10.0), with_probe(answering)});
    CHECK_FALSE(web->failed);

    // A unit that does not run is judged by that, not by its probe.
    monitor.observe({machine(10.0), with_probe(hung, false)});
    REQUIRE(web->verdicts.size() == 1);
    CHECK(web->verdicts[0].metric == "unit:web.service:active");
}
