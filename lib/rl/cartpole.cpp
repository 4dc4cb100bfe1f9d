#include "rl/cartpole.hpp"

#include <cmath>

namespace heal {

CartPole::CartPole(std::uint64_t seed) : rng_(seed) {}

void CartPole::reset(std::span<float> observation) {
    for (double& v : state_) v = rng_.uniform(-0.05, 0.05);
    elapsed_steps_ = 0;
    write(observation);
}

void CartPole::set_state(const State& state, int elapsed_steps) {
    state_ = state;
    elapsed_steps_ = elapsed_steps;
}

StepResult CartPole::step(int action, std::span<float> observation) {
    auto& [x, x_dot, theta, theta_dot] = state_;
    const double force = action == 1 ? kForce : -kForce;
    const double cos_theta = std::cos(theta);
    const double sin_theta = std::sin(theta);
    const double temp = (force + kPoleMassLength * theta_dot * theta_dot * sin_theta) / kTotalMass;
    const double theta_acc = (kGravity * sin_theta - cos_theta * temp) /
                             (kHalfPoleLength * (4.0 / 3.0 - kPoleMass * cos_theta * cos_theta / kTotalMass));
    const double x_acc = temp - kPoleMassLength * theta_acc * cos_theta / kTotalMass;
    // Gymnasium's default "euler" kinematics: positions move with the old velocities.
    x += kTau * x_dot;
    x_dot += kTau * x_acc;
    theta += kTau * theta_dot;
    theta_dot += kTau * theta_acc;
    ++elapsed_steps_;
    write(observation);

    StepResult result;
    result.reward = 1.0;  // every step counts, the terminating one included
    result.terminated = x < -kXThreshold || x > kXThreshold || theta < -kThetaThreshold || theta > kThetaThreshold;
    result.truncated = elapsed_steps_ >= kMaxEpisodeSteps;
    return result;
}

void CartPole::write(std::span<float> observation) const {
    // Gymnasium hands out the state as float32.
    for (std::size_t i = 0; i < state_.size(); ++i) observation[i] = static_cast<float>(state_[i]);
}

}  // namespace heal
