#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

#include "rl/ppo.hpp"

using namespace heal;

namespace {

// gamma 0.9, lambda 0.8 over five steps: an episode truncated at step 1, one
// terminated at step 3, and an unfinished one at the rollout's end.
struct Rollout {
    std::array<float, 5> rewards{1, 2, 3, 4, 5};
    std::array<float, 5> values{0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
    // Step 1's next value is the truncated episode's final state (2.0); step 3's
    // (5.0) must be ignored as the episode terminated; step 4 bootstraps from 1.0.
    std::array<float, 5> next_values{0.4f, 2.0f, 0.2f, 5.0f, 1.0f};
    std::array<std::uint8_t, 5> terminated{0, 0, 0, 1, 0};
    std::array<std::uint8_t, 5> ended{0, 1, 0, 1, 0};

    std::array<float, 5> advantages() const {
        std::array<float, 5> a{};
        compute_gae(rewards, values, next_values, terminated, ended, 0.9, 0.8, a);
        return a;
    }
};

}  // namespace

TEST_CASE("GAE bootstraps truncated episodes and not terminated ones") {
    Rollout r;
    const auto a = r.advantages();
    // delta_t = r_t + gamma * next_value (0 when terminated) - V_t;
    // A_t = delta_t + gamma * lambda * A_{t+1}, reset at episode ends.
    CHECK(a[4] == Approx(5 + 0.9 * 1.0 - 0.1));                  // 5.8, bootstrapped
    CHECK(a[3] == Approx(4 - 0.2));                              // 3.8, terminated
    CHECK(a[2] == Approx(3 + 0.9 * 0.2 - 0.3 + 0.72 * 3.8));     // 5.616
    CHECK(a[1] == Approx(2 + 0.9 * 2.0 - 0.4));                  // 3.4, truncated: bootstraps, then stops
    CHECK(a[0] == Approx(1 + 0.9 * 0.4 - 0.5 + 0.72 * 3.4));     // 3.308
}

TEST_CASE("GAE treats a terminated step as worth nothing beyond its reward") {
    Rollout r;
    r.terminated[1] = 1;  // same rollout, but step 1 now terminates
    const auto a = r.advantages();
    CHECK(a[1] == Approx(2 - 0.4));
    CHECK(a[0] == Approx(0.86 + 0.72 * 1.6));
    CHECK(a[2] == Approx(5.616));  // later episodes are unaffected
}

TEST_CASE("GAE with lambda 1 and gamma 1 gives Monte Carlo returns minus values") {
    const std::array<float, 4> rewards{1, 1, 1, 1};
    const std::array<float, 4> values{0, 0, 0, 0};
    const std::array<float, 4> next_values{0, 0, 0, 0};
    const std::array<std::uint8_t, 4> terminated{0, 0, 0, 1};
    std::array<float, 4> a{};
    compute_gae(rewards, values, next_values, terminated, terminated, 1.0, 1.0, a);
    CHECK(a == std::array<float, 4>{4, 3, 2, 1});
}
