#pragma once
// CartPole-v1 exactly as Gymnasium defines it (classic_control/cartpole.py
// plus the TimeLimit wrapper): PPO's correctness benchmark.
#include <array>
#include <cstdint>
#include <numbers>

#include "rl/environment.hpp"
#include "rl/random.hpp"

namespace heal {

class CartPole final : public Environment {
public:
    // Gymnasium's constants.
    static constexpr double kGravity = 9.8;
    static constexpr double kCartMass = 1.0;
    static constexpr double kPoleMass = 0.1;
    static constexpr double kTotalMass = kCartMass + kPoleMass;
    static constexpr double kHalfPoleLength = 0.5;  // "length" in Gymnasium
    static constexpr double kPoleMassLength = kPoleMass * kHalfPoleLength;
    static constexpr double kForce = 10.0;
    static constexpr double kTau = 0.02;  // seconds per step, Euler integration
    static constexpr double kThetaThreshold = 12.0 * 2.0 * std::numbers::pi / 360.0;  // radians
    static constexpr double kXThreshold = 2.4;
    static constexpr int kMaxEpisodeSteps = 500;

    using State = std::array<double, 4>;  // x, x_dot, theta, theta_dot

    explicit CartPole(std::uint64_t seed);

    int observation_size() const override { return 4; }
    int action_count() const override { return 2; }  // 0 pushes left, 1 pushes right
    void reset(std::span<float> observation) override;
    StepResult step(int action, std::span<float> observation) override;

    const State& state() const { return state_; }
    void set_state(const State& state, int elapsed_steps = 0);

private:
    void write(std::span<float> observation) const;

    Rng rng_;
    State state_{};
    int elapsed_steps_ = 0;
};

}  // namespace heal
