#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "healthy_soak.hpp"
#include "trace_corpus.hpp"

using namespace heal::bench;

namespace {

// One corpus row with `memory` bytes and `cpu` %.
std::string row(int t, const std::string& unit, std::uint64_t memory, int cpu, const std::string& label = "") {
    return fmt::format("{}.0,{},1,{}.00,{},{},,,,0.00,0.00,0.00,0.00,2,100000,,{}\n", t, unit, cpu,
                       unit.empty() ? "" : "1", memory, label);
}

// 100 ticks. a.service uses t % CPU (so a row says which tick it came from)
// and the same memory throughout; it is labelled hang from t 41 to 50.
// b.service's memory is 1000 + t up to t 50, 5000 + t after.
std::vector<TraceTick> corpus() {
    std::string text = fmt::format("{}\n", kTraceColumns);
    for (int t = 1; t <= 100; ++t) {
        const auto u = static_cast<std::uint64_t>(t);
        text += row(t, "", 50'000, 50) + row(t, "a.service", 7, t, t >= 41 && t <= 50 ? "hang" : "") +
                row(t, "b.service", (t <= 50 ? 1000 : 5000) + u, 1);
    }
    return parse_trace(text);
}

}  // namespace

TEST_CASE("a healthy soak plays only each target's healthy ticks, machine first, one second apart", "[bench][soak]") {
    const std::vector<TraceTick> ticks = corpus();
    HealthySoak soak(ticks, 30.0, 20.0, 7);
    // a.service: t 1-40, then 81-100 (its window ends at 50, + 30 s of grace).
    CHECK(soak.healthy_ticks() == std::vector<std::size_t>{100, 60, 100});
    std::set<double> played;
    for (int i = 0; i < 5000; ++i) {
        const TraceTick tick = soak.next();
        REQUIRE(tick.rows.size() == 3);
        CHECK(tick.t == static_cast<double>(i));
        CHECK(tick.rows[0].unit.empty());
        CHECK(tick.rows[1].unit == "a.service");
        CHECK(tick.rows[2].unit == "b.service");
        for (const TraceRow& row : tick.rows) CHECK(row.t == tick.t);
        CHECK(tick.rows[1].label.empty());
        played.insert(tick.rows[1].cpu_percent);
    }
    for (const double t : played) CHECK((t <= 40.0 || t >= 81.0));
    CHECK(played.size() == 60);  // every healthy tick, in time (the same memory: every jump is a match)
}

TEST_CASE("a healthy soak plays runs in order and jumps to the nearest memory of its candidates", "[bench][soak]") {
    const std::vector<TraceTick> ticks = corpus();
    HealthySoak soak(ticks, 30.0, 1e9, 3);  // no jump but at a run's end
    std::uint64_t previous = soak.next().rows[2].memory_bytes;
    int jumps = 0;
    for (int i = 0; i < 2000; ++i) {
        const std::uint64_t memory = soak.next().rows[2].memory_bytes;
        if (memory != previous + 1) {
            ++jumps;
            // Only at the end of b.service's one run, t 100: to one of 16
            // candidates nearest 5100, so one of the later ticks (5051-5100),
            // never back to the first half (1001-1050).
            CHECK(previous == 5100);
            CHECK(memory >= 5051);
        }
        previous = memory;
    }
    CHECK(jumps > 0);
}

TEST_CASE("a healthy soak refuses a target without healthy ticks, and a mean block under 1 s", "[bench][soak]") {
    std::string text = fmt::format("{}\n", kTraceColumns);
    for (int t = 1; t <= 5; ++t) text += row(t, "", 1, 1) + row(t, "sick.service", 1, 1, "hang");
    const std::vector<TraceTick> ticks = parse_trace(text);
    CHECK_THROWS_WITH(HealthySoak(ticks, 30.0, 300.0, 1), "sick.service has no healthy tick to resample");
    CHECK_THROWS_WITH(HealthySoak(corpus(), 30.0, 0.5, 1), "the mean block must be at least 1 s (got 0.5)");
}
