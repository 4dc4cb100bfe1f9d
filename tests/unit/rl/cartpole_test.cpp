#include <catch2/catch.hpp>

#include <array>

#include "rl/cartpole.hpp"

using namespace heal;

// Expected states worked out by hand from Gymnasium's equations:
//   temp = (F + m_p l theta_dot^2 sin) / M
//   theta_acc = (g sin - cos temp) / (l (4/3 - m_p cos^2 / M))
//   x_acc = temp - m_p l theta_acc cos / M, then an Euler step of tau = 0.02.
TEST_CASE("CartPole follows Gymnasium's dynamics") {
    CartPole env(1);
    std::array<float, 4> obs{};

    SECTION("from rest, pushing right") {
        // temp = 100/11, theta_acc = -600/41, x_acc = 4400/451.
        env.set_state({0, 0, 0, 0});
        const StepResult r = env.step(1, obs);
        CHECK(env.state()[0] == Approx(0.0).margin(1e-12));
        CHECK(env.state()[1] == Approx(0.02 * 4400.0 / 451.0));
        CHECK(env.state()[2] == Approx(0.0).margin(1e-12));
        CHECK(env.state()[3] == Approx(-0.02 * 600.0 / 41.0));
        CHECK(r.reward == 1.0);
        CHECK_FALSE(r.terminated);
        CHECK_FALSE(r.truncated);
        CHECK(obs[1] == static_cast<float>(env.state()[1]));
    }
    SECTION("tilted and moving, pushing left") {
        env.set_state({0.1, -0.2, 0.05, 0.3});
        env.step(0, obs);
        CHECK(env.state()[0] == Approx(0.096));                // x + tau * x_dot (old velocity)
        CHECK(env.state()[1] == Approx(-0.3957976546439626));
        CHECK(env.state()[2] == Approx(0.056));
        CHECK(env.state()[3] == Approx(0.6080233136061515));
    }
}

TEST_CASE("CartPole terminates beyond 2.4 m or 12 degrees and truncates at 500 steps") {
    CartPole env(1);
    std::array<float, 4> obs{};
    env.set_state({2.39, 1.0, 0.0, 0.0});
    StepResult r = env.step(1, obs);  // x = 2.41
    CHECK(r.terminated);
    CHECK(r.reward == 1.0);           // the terminating step is rewarded too

    env.set_state({0.0, 0.0, 0.2094, 0.1});  // theta = 0.2114 > 12 degrees (0.20944 rad)
    CHECK(env.step(1, obs).terminated);
    env.set_state({0.0, 0.0, -0.2094, -0.1});
    CHECK(env.step(0, obs).terminated);

    env.set_state({0.0, 0.0, 0.0, 0.0}, 498);
    r = env.step(1, obs);
    CHECK_FALSE(r.truncated);  // step 499
    r = env.step(0, obs);
    CHECK(r.truncated);  // step 500
    CHECK_FALSE(r.terminated);
}

TEST_CASE("CartPole resets to small uniform states and is reproducible per seed") {
    CartPole a(42), b(42), c(43);
    std::array<float, 4> oa{}, ob{}, oc{};
    a.reset(oa);
    b.reset(ob);
    c.reset(oc);
    CHECK(oa == ob);
    CHECK(oa != oc);
    for (int i = 0; i < 100; ++i) {
        a.reset(oa);
        for (double v : a.state()) {
            CHECK(v >= -0.05);
            CHECK(v < 0.05);
        }
    }
}
