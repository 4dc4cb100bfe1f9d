#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "detect_score.hpp"
#include "trace_corpus.hpp"

using namespace heal::bench;

namespace {

// One corpus row: the machine's has no runnable_threads and is never labelled.
std::string row(int t, const std::string& unit, const std::string& label = "") {
    return fmt::format("{}.0,{},1,1.00,{},1000,,,,0.00,0.00,0.00,0.00,2,100000,,{}\n", t, unit,
                       unit.empty() ? "" : "1", label);
}

// 12 ticks of the machine, a.service and b.service; a.service is labelled
// hang at t 3-4, crash_loop at 5 (right after: a window of its own) and hang
// again at 10 (after a healthy gap: another window).
std::string corpus() {
    std::string text = fmt::format("{}\n", kTraceColumns);
    for (int t = 1; t <= 12; ++t) {
        const char* label = t == 3 || t == 4 || t == 10 ? "hang" : t == 5 ? "crash_loop" : "";
        text += row(t, "") + row(t, "a.service", label) + row(t, "b.service");
    }
    return text;
}

}  // namespace

TEST_CASE("a window is a maximal run of one unit's ticks with the same label", "[bench][detect]") {
    const auto windows = fault_windows(parse_trace(corpus()));
    REQUIRE(windows.size() == 3);
    CHECK(windows[0].unit == "a.service");
    CHECK(windows[0].label == "hang");
    CHECK(windows[0].start == 3.0);
    CHECK(windows[0].end == 4.0);
    CHECK(windows[1].label == "crash_loop");
    CHECK(windows[1].start == 5.0);
    CHECK(windows[1].end == 5.0);
    CHECK(windows[2].label == "hang");
    CHECK(windows[2].start == 10.0);
    CHECK(windows[2].end == 10.0);
}

TEST_CASE("events are scored against their own unit's windows and the grace", "[bench][detect]") {
    const auto ticks = parse_trace(corpus());
    const std::vector<DetectionEvent> events{
        {4.0, "a.service", "probe"},            // in the first hang: detects it 1 s late
        {6.0, "a.service", "active"},           // in its grace (4 + 2) and in crash_loop's: true
        {4.0, "", "cpu_saturation"},            // the machine is never labelled: a false alarm
        {10.0, "b.service", "memory_leak"},     // a.service's window, not b's: a false alarm
        {9.0, "a.service", "probe"},            // after crash_loop's grace, before the second hang
        {4.0, "a.service", "memory_leak"},      // a second event in a detected window: true, first stays
    };
    const DetectionScore score = score_detection(ticks, events, 2.0);

    REQUIRE(score.windows.size() == 3);
    CHECK(score.windows[0].detected_at == 4.0);
    CHECK(score.windows[0].signal == "probe");
    CHECK(score.windows[0].delay() == 1.0);
    CHECK(score.windows[1].signal == "active");
    CHECK(score.windows[1].delay() == 1.0);
    CHECK_FALSE(score.windows[2].detected_at);

    CHECK(score.events == 6);
    CHECK(score.true_events == 3);
    REQUIRE(score.false_alarms.size() == 3);
    CHECK(score.false_alarms[0].unit == "");
    CHECK(score.false_alarms[1].t == 9.0);
    CHECK(score.false_alarms[2].unit == "b.service");
    CHECK(score.precision == Approx(0.5));
    CHECK(score.recall == Approx(2.0 / 3.0));
    CHECK(score.delay_median_s == 1.0);
    CHECK(score.delay_p95_s == 1.0);
    // 12 ticks x 3 targets, 4 of them labelled, 1 s apart.
    CHECK(score.healthy_target_seconds == Approx(32.0));
    CHECK(*score.false_alarms_per_unit_day == Approx(3.0 / (32.0 / 86'400.0)));
}

TEST_CASE("figures without data are absent", "[bench][detect]") {
    const DetectionScore score = score_detection(parse_trace(corpus()), {});
    CHECK(score.events == 0);
    CHECK_FALSE(score.precision);
    CHECK(score.recall == 0.0);
    CHECK_FALSE(score.delay_median_s);
    CHECK_FALSE(score.delay_p95_s);
    CHECK(score.false_alarms_per_unit_day == 0.0);
}

TEST_CASE("delay percentiles are nearest-rank", "[bench][detect]") {
    CHECK(nearest_rank({4.0, 1.0, 3.0, 2.0}, 0.5) == 2.0);
    CHECK(nearest_rank({4.0, 1.0, 3.0, 2.0}, 0.95) == 4.0);
    CHECK(nearest_rank({7.0}, 0.5) == 7.0);
    CHECK_FALSE(nearest_rank({}, 0.5));
}

TEST_CASE("a corpus that is not in the recorder's format is refused by line", "[bench][detect]") {
    CHECK_THROWS_WITH(parse_trace("t,unit\n1,\n"), "line 1: not the corpus header");
    const std::string header = fmt::format("{}\n", kTraceColumns);
    CHECK_THROWS_WITH(parse_trace(header + "1.0,,1,x,,1,,,,,,,,2,100,,\n"),
                      "line 2: cpu_percent 'x' is not a number");
    CHECK_THROWS_WITH(parse_trace(header + row(1, "", "hang")),
                      "line 2: label 'hang' labels the machine, which is never labelled");
    CHECK_THROWS_WITH(parse_trace(header + row(2, "") + row(1, "")), "line 3: t 1 goes back in time");
}

TEST_CASE("a unit's MemoryMax comes from a limit spec", "[bench][detect]") {
    MemoryLimits limits;
    add_limit(limits, "a.service:MemoryMax=300M");
    CHECK(limits.at("a.service") == 300ull << 20);
    CHECK_THROWS_AS(add_limit(limits, "a.service:MemoryHigh=300M"), std::invalid_argument);
    CHECK_THROWS_AS(add_limit(limits, "a.service:MemoryMax=lots"), std::invalid_argument);
    CHECK_THROWS_AS(add_limit(limits, ":MemoryMax=1G"), std::invalid_argument);

    auto ticks = parse_trace(corpus());
    apply_limits(ticks, limits);
    CHECK(ticks[0].rows[1].memory_max_bytes == 300ull << 20);
    CHECK_FALSE(ticks[0].rows[2].memory_max_bytes);
}
