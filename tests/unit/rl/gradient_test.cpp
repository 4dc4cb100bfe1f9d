// Every hand-written gradient against central finite differences, in double.
#include <catch2/catch.hpp>

#include <cmath>

#include "rl/network.hpp"
#include "rl/ppo.hpp"
#include "rl/random.hpp"

using namespace heal;
using Net = ActorCritic<double>;

namespace {

// A small network with random (not orthogonal-init) weights, so that no
// gradient is accidentally tiny.
Net random_network(Rng& rng, std::vector<int> hidden, int inputs = 5, int actions = 4) {
    Net net(NetworkShape{inputs, std::move(hidden), actions});
    for (Eigen::Index i = 0; i < net.parameters().size(); ++i) net.parameters()(i) = 0.6 * rng.normal();
    return net;
}

Minibatch<double> random_batch(const Net& net, Rng& rng, int size) {
    Minibatch<double> b;
    const NetworkShape& shape = net.shape();
    b.observations = Net::Matrix(shape.inputs, size);
    for (Eigen::Index i = 0; i < b.observations.size(); ++i) b.observations(i) = rng.uniform(-1.5, 1.5);
    b.old_log_probs.resize(size);
    b.advantages.resize(size);
    b.returns.resize(size);
    b.old_values.resize(size);
    std::vector<double> logits(static_cast<std::size_t>(shape.actions));
    for (int i = 0; i < size; ++i) {
        const int action = static_cast<int>(rng.below(static_cast<std::uint64_t>(shape.actions)));
        b.actions.push_back(action);
        std::vector<double> obs(b.observations.col(i).data(), b.observations.col(i).data() + shape.inputs);
        net.logits(obs, logits);
        double log_sum = 0.0;
        for (double l : logits) log_sum += std::exp(l);
        // Old log-probabilities around the current ones: ratios spread on both
        // sides of the clip range, so both branches of the surrogate are tested.
        b.old_log_probs(i) = logits[static_cast<std::size_t>(action)] - std::log(log_sum) + rng.uniform(-0.5, 0.5);
        b.advantages(i) = rng.normal();
        const double value = net.value(obs);
        b.old_values(i) = value + rng.uniform(-0.6, 0.6);
        b.returns(i) = value + rng.normal();
    }
    return b;
}

// Compares the analytic gradient of the total loss with central differences
// for every parameter.
void check_gradient(const PpoConfig& config, Net net, const Minibatch<double>& batch) {
    PpoLoss<double> loss(config);
    Net::Vector analytic;
    loss.evaluate(net, batch, analytic);
    REQUIRE(analytic.size() == net.parameters().size());
    Net::Vector scratch;
    const double h = 1e-6;
    int mismatches = 0;
    for (Eigen::Index i = 0; i < net.parameters().size(); ++i) {
        const double saved = net.parameters()(i);
        net.parameters()(i) = saved + h;
        const double plus = loss.evaluate(net, batch, scratch).total;
        net.parameters()(i) = saved - h;
        const double minus = loss.evaluate(net, batch, scratch).total;
        net.parameters()(i) = saved;
        const double numeric = (plus - minus) / (2 * h);
        if (std::abs(numeric - analytic(i)) > 1e-6 + 1e-5 * std::abs(numeric)) {
            ++mismatches;
            UNSCOPED_INFO("parameter " << i << ": analytic " << analytic(i) << " numeric " << numeric);
        }
    }
    CHECK(mismatches == 0);
    CHECK(analytic.norm() > 1e-3);  // the check compared something
}

}  // namespace

TEST_CASE("network gradients match finite differences for every parameter") {
    Rng rng(11);
    // Only a value loss, then only a policy loss, isolate the two MLPs.
    Net net = random_network(rng, {6, 5});
    const Minibatch<double> batch = random_batch(net, rng, 9);
    Net::Workspace ws;
    net.forward(batch.observations, ws);
    Net::Matrix dlogits = Net::Matrix::Random(4, 9);
    Net::Matrix dvalues = Net::Matrix::Random(1, 9);
    Net::Vector analytic;
    net.backward(batch.observations, dlogits, dvalues, ws, analytic);
    // Loss = sum(dlogits .* logits) + sum(dvalues .* values) has exactly these partials.
    const auto loss = [&](Net& n) {
        Net::Workspace w;
        n.forward(batch.observations, w);
        return w.actor.back().cwiseProduct(dlogits).sum() + w.critic.back().cwiseProduct(dvalues).sum();
    };
    const double h = 1e-6;
    for (Eigen::Index i = 0; i < net.parameters().size(); ++i) {
        const double saved = net.parameters()(i);
        net.parameters()(i) = saved + h;
        const double plus = loss(net);
        net.parameters()(i) = saved - h;
        const double minus = loss(net);
        net.parameters()(i) = saved;
        INFO("parameter " << i);
        CHECK(analytic(i) == Approx((plus - minus) / (2 * h)).margin(1e-7).epsilon(1e-6));
    }
}

TEST_CASE("PPO loss gradient matches finite differences for every parameter") {
    Rng rng(3);
    PpoConfig config;
    config.entropy_coef = 0.05;
    config.clip_range = 0.2;

    SECTION("two hidden layers, unclipped value loss") {
        Net net = random_network(rng, {7, 6});
        check_gradient(config, net, random_batch(net, rng, 16));
    }
    SECTION("clipped value loss") {
        config.value_clip_range = 0.2;
        Net net = random_network(rng, {7, 6});
        check_gradient(config, net, random_batch(net, rng, 16));
    }
    SECTION("masked actions: their logits are constants, so only legal ones get a gradient") {
        Net net = random_network(rng, {7, 6});
        Minibatch<double> batch = random_batch(net, rng, 16);
        for (std::size_t i = 0; i < batch.actions.size(); ++i) {
            ActionSet legal;
            legal.set(static_cast<std::size_t>(batch.actions[i]));  // the taken action was legal
            legal.set(i % kActionCount);
            batch.legal.push_back(legal);
        }
        check_gradient(config, net, batch);
    }
    SECTION("three hidden layers, two actions, no advantage normalisation") {
        config.normalize_advantages = false;
        Net net = random_network(rng, {4, 5, 3}, 4, 2);
        check_gradient(config, net, random_batch(net, rng, 12));
    }
}

TEST_CASE("the loss treats masked actions as impossible", "[rl][mask]") {
    Rng rng(4);
    Net net = random_network(rng, {7, 6});
    Minibatch<double> batch = random_batch(net, rng, 8);
    // Only the taken action legal: a certain choice, no entropy, ratio 1
    // against an old log-probability of 0.
    for (std::size_t i = 0; i < batch.actions.size(); ++i) {
        batch.legal.push_back(ActionSet().set(static_cast<std::size_t>(batch.actions[i])));
        batch.old_log_probs(static_cast<Eigen::Index>(i)) = 0.0;
    }
    PpoConfig config;
    config.entropy_coef = 0.05;
    PpoLoss<double> loss(config);
    Net::Vector gradient;
    const LossTerms terms = loss.evaluate(net, batch, gradient);
    CHECK(terms.entropy == Approx(0.0).margin(1e-12));
    CHECK(terms.approx_kl == Approx(0.0).margin(1e-12));
    CHECK(terms.clip_fraction == 0.0);
}

TEST_CASE("single-state inference agrees with the batch forward pass") {
    Rng rng(5);
    ActorCritic<float> net(NetworkShape{7, {64, 64}, 4});
    net.initialize(rng);
    ActorCritic<float>::Matrix obs = ActorCritic<float>::Matrix::Random(7, 3);
    ActorCritic<float>::Workspace ws;
    net.forward(obs, ws);
    for (Eigen::Index i = 0; i < obs.cols(); ++i) {
        std::array<float, 4> logits{};
        const std::span<const float> x(obs.col(i).data(), 7);
        net.logits(x, logits);
        for (int a = 0; a < 4; ++a) CHECK(logits[static_cast<std::size_t>(a)] == Approx(ws.actor.back()(a, i)).margin(1e-6));
        CHECK(net.value(x) == Approx(ws.critic.back()(0, i)).margin(1e-5));
    }
}

TEST_CASE("orthogonal initialisation gives orthogonal rows or columns, scaled by the gain") {
    Rng rng(9);
    ActorCritic<double> net(NetworkShape{7, {64, 64}, 4});
    net.initialize(rng);
    const auto& p = net.parameters();
    // Layer 1 of the actor: 64 x 7, columns orthogonal with norm sqrt(2).
    const Eigen::Map<const Eigen::MatrixXd> w1(p.data(), 64, 7);
    CHECK((w1.transpose() * w1 - 2.0 * Eigen::MatrixXd::Identity(7, 7)).norm() < 1e-9);
    // Actor output: 4 x 64 after layer 2 (64x64 + 64 biases), rows orthogonal with norm 0.01.
    const std::size_t out = 64 * 7 + 64 + 64 * 64 + 64;
    const Eigen::Map<const Eigen::MatrixXd> w3(p.data() + out, 4, 64);
    CHECK((w3 * w3.transpose() - 1e-4 * Eigen::MatrixXd::Identity(4, 4)).norm() < 1e-12);
    CHECK(p.segment(64 * 7, 64).isZero());  // biases
}
