#include "detection/rolling_stats.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <deque>
#include <numeric>
#include <random>

using heal::RollingStats;

namespace {

// Two-pass reference over the same window.
void check_against_reference(const RollingStats& stats, const std::deque<double>& window) {
    const double n = static_cast<double>(window.size());
    const double mean = std::accumulate(window.begin(), window.end(), 0.0) / n;
    double squares = 0.0;
    for (double v : window) squares += (v - mean) * (v - mean);
    CHECK(stats.size() == window.size());
    CHECK(stats.mean() == Approx(mean).epsilon(1e-12));
    CHECK(stats.stddev() == Approx(std::sqrt(squares / n)).epsilon(1e-6));
}

}  // namespace

TEST_CASE("rolling stats of a known window") {
    RollingStats stats(4);
    CHECK(stats.stddev() == 0.0);
    for (double v : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) stats.push(v);
    // The window holds the last four: 5, 5, 7, 9 -> mean 6.5, population σ sqrt(2.75).
    CHECK(stats.size() == 4);
    CHECK(stats.mean() == Approx(6.5));
    CHECK(stats.stddev() == Approx(std::sqrt(2.75)));
}

TEST_CASE("rolling stats stay exact on a flat series") {
    RollingStats stats(10);
    for (int i = 0; i < 1000; ++i) stats.push(3.0);
    CHECK(stats.mean() == 3.0);
    CHECK(stats.stddev() == 0.0);
}

TEST_CASE("rolling stats stay accurate over many evictions of large, close values") {
    // A large offset with small spread is where naive sum-of-squares loses
    // every digit; the sliding Welford update with periodic recompute must not.
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(1e6, 0.5);
    RollingStats stats(60);
    std::deque<double> window;
    for (int i = 0; i < 100'003; ++i) {
        const double v = noise(rng);
        stats.push(v);
        window.push_back(v);
        if (window.size() > 60) window.pop_front();
    }
    check_against_reference(stats, window);
}

TEST_CASE("rolling stats reject a zero capacity") {
    CHECK_THROWS_AS(RollingStats(0), std::invalid_argument);
}
