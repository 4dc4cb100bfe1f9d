#include <catch2/catch.hpp>

#include "detection/monitor.hpp"

using namespace heal;
using namespace std::chrono_literals;

namespace {

// The original design's detector alone, with the consecutive rule at
// `consecutive` samples and a unit's absence judged as long (one tick a second).
DetectionConfig original(std::size_t consecutive = 3) {
    DetectionConfig config;
    config.signals = {SignalKind::cpu_original, SignalKind::memory_original};
    config.original.consecutive = consecutive;
    config.inactive_for_sec = static_cast<double>(consecutive - 1);
    return config;
}

DetectionOf every(const DetectionConfig& config) {
    return [config](const std::string&) { return config; };
}

constexpr MachineShape kMachine{4, 16ull << 30};

TargetReading machine(double cpu, double memory = 30.0) { return TargetReading{"", true, cpu, memory}; }
TargetReading unit(const std::string& name, double cpu, std::optional<double> memory = 15.0, bool present = true) {
    return TargetReading{name, present, cpu, memory};
}

// A monitor fed one tick a second.
class Ticking {
public:
    Ticking(const std::vector<std::string>& units, const DetectionOf& detection)
        : monitor(units, detection, kMachine) {}

    std::vector<FailureEvent> observe(const std::vector<TargetReading>& readings) {
        now += 1s;
        return monitor.observe(readings, now);
    }
    const TargetStatus* target(const std::string& unit) const { return monitor.target(unit); }
    std::vector<Verdict> peek(std::optional<double> cpu, std::optional<double> memory) const {
        return monitor.peek(cpu, memory);
    }
    bool healthy() const { return monitor.healthy(); }
    std::uint32_t failure_count() const { return monitor.failure_count(); }

    Monitor monitor;
    SteadyTime now{};
};

// Feeds `count` quiet ticks so the detectors leave warm-up.
void settle(Ticking& monitor, int count = 20) {
    for (int i = 0; i < count; ++i) monitor.observe({machine(10.0 + i % 3), unit("web.service", 2.0 + i % 2)});
}

}  // namespace

TEST_CASE("a metric fails after the consecutive rule and recovers at the first normal value", "[engine][monitor]") {
    Ticking monitor({"web.service"}, every(original(3)));
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
    CHECK(events[0].signal == "cpu_original");
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
    Ticking monitor({"web.service"}, every(original(2)));
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
    CHECK(events[0].reason == "web.service is not running (for 1 s)");
    CHECK(monitor.target("web.service")->failed);
    CHECK(monitor.target("web.service")->state() == "failed");
    CHECK_FALSE(monitor.target("web.service")->observation().unit_active);

    monitor.observe({machine(10.0), unit("web.service", 2.0)});
    CHECK_FALSE(monitor.target("web.service")->failed);
    CHECK(monitor.target("web.service")->present);
}

TEST_CASE("each target's observation is what the policy sees", "[engine][monitor]") {
    Ticking monitor({"web.service"}, every(original(1)));
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
    Ticking monitor({"web.service"}, every(original(1)));
    monitor.observe({machine(10.0), unit("other.service", 100.0)});
    CHECK_FALSE(monitor.target("web.service")->observed);
    CHECK(monitor.target("")->observed);
    CHECK(monitor.target("other.service") == nullptr);
    CHECK(monitor.monitor.targets().size() == 2);
    CHECK(monitor.monitor.targets().front().unit.empty());
}

TEST_CASE("peek judges without recording", "[engine][monitor]") {
    Ticking monitor({"web.service"}, every(original(1)));
    settle(monitor);
    const auto verdicts = monitor.peek(99.0, std::nullopt);
    REQUIRE(verdicts.size() == 4);
    CHECK(verdicts[0].metric == "cpu_original");
    CHECK(verdicts[0].value == 99.0);
    CHECK(verdicts[0].anomalous);
    CHECK(verdicts[1].metric == "memory_original");
    CHECK(verdicts[1].value == Approx(30.0));  // the latest reading
    CHECK_FALSE(verdicts[1].anomalous);
    CHECK(verdicts[2].metric == "unit:web.service:cpu_original");
    CHECK(verdicts[3].metric == "unit:web.service:memory_original");
    CHECK(monitor.healthy());
    CHECK(monitor.failure_count() == 0);
    // The detector did not learn 99: the next real value is still judged the same.
    CHECK_FALSE(monitor.peek(std::nullopt, std::nullopt)[0].anomalous);
}

TEST_CASE("reconfiguring keeps history unless the detector settings change", "[engine][monitor]") {
    Ticking monitor({"web.service"}, every(original(1)));
    settle(monitor);
    monitor.observe({machine(99.0), unit("web.service", 2.0)});
    REQUIRE(monitor.failure_count() == 1);

    monitor.monitor.reconfigure({"web.service", "db.service"}, every(original(1)));
    CHECK(monitor.monitor.targets().size() == 3);
    CHECK(monitor.target("")->failed);  // state kept
    CHECK(monitor.target("web.service")->observed);
    CHECK_FALSE(monitor.target("db.service")->observed);

    monitor.monitor.reconfigure({"db.service"}, every(original(2)));
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
    TargetReading limited_reading{"limited.service", true, 150.0, 50.0};
    limited_reading.memory_max_bytes = 512ull << 20;
    CHECK(readings[1] == limited_reading);
    CHECK(readings[2] == TargetReading{"unlimited.service", true, 0.0, 25.0});
    CHECK(readings[3] == TargetReading{"stopped.service", false, 0.0, std::nullopt});

    // Without the machine's RAM total, an unlimited unit's memory is not judged.
    CHECK_FALSE(readings_from(sample, 0)[2].memory);
}

TEST_CASE("a tick's metric records: watched targets in order, failed while in failure", "[engine][monitor]") {
    Ticking monitor({"web.service", "db.service"}, every(original(1)));
    settle(monitor);
    const std::vector<TargetReading> readings{machine(99.0, 40.0), unit("other.service", 5.0),
                                              unit("web.service", 2.5), unit("db.service", 0.0, std::nullopt, false)};
    monitor.observe(readings);
    const TimePoint time{std::chrono::seconds(1'717'243'200)};

    const std::vector<MetricRecord> records = metric_records(readings, monitor.monitor, time);
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
    CHECK(records[1].detail == detail_of(readings[2]));
    REQUIRE(records[2].detail);
    CHECK_FALSE(records[2].detail->present);
}

TEST_CASE("a reading's detail keeps what detection reads besides CPU and memory", "[engine][monitor]") {
    TargetReading reading{"web.service", true, 50.0, 20.0};
    CHECK(detail_of(reading) == ReadingDetail{});  // nothing known, no probe
    reading.stopped = true;
    reading.runnable_threads = 2;
    reading.memory_max_bytes = 1ull << 30;
    reading.memory_high_bytes = 1ull << 29;
    reading.cpu_limit_percent = 50.0;
    reading.cpu_pressure = Pressure{.avg10 = 1.0, .total_us = 9, .full_avg10 = 0.5};
    reading.memory_pressure = Pressure{.avg10 = 2.0, .total_us = 9, .full_avg10 = std::nullopt};
    reading.io_pressure = Pressure{.avg10 = 3.0, .total_us = 9, .full_avg10 = 1.5};
    reading.automatic_restarts = 3;
    reading.probes = {ProbeReading{"a", true, 0, 0, ""}, ProbeReading{"b", false, 0, 0, ""},
                      ProbeReading{"c", true, 0, 0, ""}};
    const ReadingDetail detail = detail_of(reading);
    CHECK(detail.stopped);
    CHECK(detail.runnable_threads == 2);
    CHECK(detail.memory_max_bytes == 1ull << 30);
    CHECK(detail.memory_high_bytes == 1ull << 29);
    CHECK(detail.cpu_limit_percent == 50.0);
    CHECK(detail.cpu_some == 1.0);
    CHECK(detail.cpu_full == 0.5);
    CHECK(detail.memory_some == 2.0);
    CHECK_FALSE(detail.memory_full);
    CHECK(detail.io_some == 3.0);
    CHECK(detail.io_full == 1.5);
    CHECK(detail.automatic_restarts == 3);
    CHECK(detail.probes_failing == 2u);
}

TEST_CASE("a leak that grows from the start fails at the memory ceiling, not before", "[engine][monitor]") {
    Ticking monitor({"leak.service"}, every(original(3)));
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
    Ticking monitor({"web.service"}, every(original(1)));
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
    Ticking monitor({"web.service"}, every(original(3)));
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

namespace {

// A unit at `cpu` % of one core with `runnable` threads, 100 MiB under MemoryMax=300M.
TargetReading busy_unit(const std::string& name, double cpu, unsigned runnable, double memory_mib = 100.0) {
    TargetReading reading = unit(name, cpu, 100.0 * memory_mib / 300.0);
    reading.memory_max_bytes = 300ull << 20;
    reading.runnable_threads = runnable;
    return reading;
}

}  // namespace

TEST_CASE("default signals: a full-core burst of 8 s every 40 s is never a failure, a runaway is after ForSec",
          "[engine][monitor][signals]") {
    Ticking monitor({"cron.service", "spin.service"}, every(DetectionConfig{}));
    std::vector<FailureEvent> events;
    for (int second = 0; second < 600; ++second) {
        const bool burst = second % 40 < 8;
        auto got = monitor.observe({machine(burst ? 30.0 : 5.0), busy_unit("cron.service", burst ? 100.0 : 1.0, burst),
                                    busy_unit("spin.service", 1.0, 0)});
        events.insert(events.end(), got.begin(), got.end());
    }
    CHECK(events.empty());
    CHECK(monitor.healthy());

    // A thread of spin.service starts spinning: pinned at its one runnable thread's core.
    std::optional<int> failed_after;
    for (int second = 1; second <= 120 && !failed_after; ++second) {
        const auto got = monitor.observe({machine(30.0), busy_unit("cron.service", 1.0, 0),
                                          busy_unit("spin.service", 99.5, 1)});
        if (!got.empty()) {
            REQUIRE(got.size() == 1);
            CHECK(got[0].unit == "spin.service");
            CHECK(got[0].metric == "cpu");
            CHECK(got[0].signal == "cpu_saturation");
            CHECK(got[0].held_sec == Approx(60.0));
            CHECK_THAT(got[0].reason, Catch::Contains("has been pinned at or above 95.0%"));
            failed_after = second;
        }
        if (second < 61) CHECK(monitor.target("spin.service")->cpu_anomalous == (second >= 1));
    }
    REQUIRE(failed_after);
    CHECK(*failed_after == 61);  // held from its first tick to its 61st: ForSec=60
    CHECK(monitor.target("spin.service")->failed);
    CHECK(monitor.target("spin.service")->observation().cpu_anomalous);
}

TEST_CASE("default signals: a leak under MemoryMax is a failure before it reaches the limit",
          "[engine][monitor][signals]") {
    Ticking monitor({"leak.service"}, every(DetectionConfig{}));
    double mib = 60.0;
    for (int second = 0; second < 120; ++second) monitor.observe({machine(10.0), busy_unit("leak.service", 2.0, 0, mib)});
    std::vector<FailureEvent> events;
    while (events.empty() && mib < 300.0) {
        mib += 20.0;  // 20 MiB/s
        events = monitor.observe({machine(10.0), busy_unit("leak.service", 2.0, 0, mib)});
    }
    REQUIRE(events.size() == 1);
    CHECK(events[0].signal == "memory_leak");
    CHECK(events[0].metric == "memory");
    CHECK(mib < 300.0);
    CHECK(monitor.target("leak.service")->observation().memory_anomalous);
}

TEST_CASE("the anomaly signal alone is shown but not acted on, and acted on when corroborated", "[engine][monitor][signals]") {
    DetectionConfig config;
    config.signals = {SignalKind::cpu_anomaly};
    config.cpu_anomaly.summary_sec = 1.0;
    config.cpu_anomaly.history_min_sec = 60.0;
    config.cpu_anomaly.for_sec = 5.0;
    Ticking monitor({"web.service"}, every(config));
    for (int second = 0; second < 120; ++second) monitor.observe({machine(10.0), unit("web.service", 2.0 + second % 3)});
    for (int second = 0; second < 10; ++second) CHECK(monitor.observe({machine(10.0), unit("web.service", 60.0)}).empty());
    const TargetStatus* web = monitor.target("web.service");
    CHECK_FALSE(web->failed);
    CHECK(web->cpu_anomalous);  // shown and fed to the policy's observation
    REQUIRE_FALSE(web->verdicts.empty());
    CHECK(web->verdicts[0].metric == "unit:web.service:cpu_anomaly");
    CHECK(web->verdicts[0].anomalous);
    CHECK_FALSE(web->verdicts[0].failure);
    CHECK_THAT(web->verdicts[0].reason, Catch::Contains("not acted on alone"));

    // A failing probe corroborates it: the probe and the anomaly both enter failure.
    TargetReading hung = unit("web.service", 60.0);
    hung.probes = {ProbeReading{"tcp probe", true, 1000.0, 1000.0, "tcp probe failed 3 times in a row"}};
    const auto events = monitor.observe({machine(10.0), hung});
    REQUIRE(events.size() == 2);
    CHECK(events[0].signal == "cpu_anomaly");
    CHECK(events[1].signal == "probe");
    CHECK(web->failed);
}

TEST_CASE("each unit has its own detection settings", "[engine][monitor][signals]") {
    DetectionConfig strict = original(1);
    DetectionConfig lenient = original(1);
    lenient.signals = {};  // only its state and probes
    lenient.inactive_for_sec = 30.0;
    Ticking monitor({"strict.service", "lenient.service"}, [&](const std::string& unit) {
        return unit == "lenient.service" ? lenient : strict;
    });
    const auto events = monitor.observe({machine(10.0), unit("strict.service", 0.0, std::nullopt, false),
                                         unit("lenient.service", 0.0, std::nullopt, false)});
    REQUIRE(events.size() == 1);
    CHECK(events[0].unit == "strict.service");
    CHECK(monitor.target("lenient.service")->state() == "down");
    CHECK_THAT(monitor.target("lenient.service")->verdicts.at(0).reason, Catch::Contains("a failure at 30 s"));
    monitor.observe({machine(10.0), unit("strict.service", 1.0), unit("lenient.service", 99.0)});
    CHECK(monitor.target("lenient.service")->verdicts.empty());  // no signal judges its CPU

    // Changing one unit's settings starts that unit over and keeps the other's history.
    lenient.inactive_for_sec = 10.0;
    monitor.monitor.observe({machine(99.0), unit("strict.service", 1.0), unit("lenient.service", 1.0)}, monitor.now + 1s);
    REQUIRE(monitor.target("")->failed);
    monitor.monitor.reconfigure({"strict.service", "lenient.service"}, [&](const std::string& unit) {
        return unit == "lenient.service" ? lenient : strict;
    });
    CHECK(monitor.target("")->failed);
    CHECK(monitor.target("lenient.service")->state() == "unknown");
}

TEST_CASE("a bad detection setting is refused when the monitor is built", "[engine][monitor][signals]") {
    DetectionConfig bad;
    bad.cpu_saturation.baseline_min_sec = 5.0;
    CHECK_THROWS_WITH(Monitor({"web.service"}, every(bad), kMachine), Catch::StartsWith("cpu_saturation: baseline_min_sec"));
}

TEST_CASE("default signals: a crash loop is one failure through the unit's absences, and the unit is not active",
          "[engine][monitor][signals]") {
    Ticking monitor({"worker.service"}, every(DetectionConfig{}));
    // Restart=always brings worker.service back after a tick down, every 3 s:
    // never down for InactiveForSec=2, and systemd counts each restart.
    std::uint64_t restarts = 0;
    auto worker = [&](int second) {
        TargetReading reading = unit("worker.service", 5.0, 15.0, second % 3 != 2);
        if (second % 3 == 0 && second > 0) ++restarts;
        reading.automatic_restarts = restarts;
        return reading;
    };
    std::vector<FailureEvent> events;
    std::optional<int> failed_at;
    for (int second = 0; second < 60; ++second) {
        const auto got = monitor.observe({machine(10.0), worker(second)});
        events.insert(events.end(), got.begin(), got.end());
        if (!got.empty() && !failed_at) failed_at = second;
        if (failed_at) {
            CHECK(monitor.target("worker.service")->failed);
            CHECK_FALSE(monitor.target("worker.service")->observation().unit_active);
        }
    }
    REQUIRE(events.size() == 1);
    CHECK(events[0].signal == "crash_loop");
    CHECK(events[0].metric == "active");
    CHECK(failed_at == 9);  // the third restart

    // Running again, left alone: failed until its last restart (57 s) leaves the 5-minute window.
    auto steady = unit("worker.service", 5.0);
    steady.automatic_restarts = restarts;
    for (int second = 60; second <= 357; ++second) monitor.observe({machine(10.0), steady});
    CHECK(monitor.target("worker.service")->failed);
    monitor.observe({machine(10.0), steady});
    CHECK_FALSE(monitor.target("worker.service")->failed);
    CHECK(monitor.target("worker.service")->observation().unit_active);
}
