#include "rl/network.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "rl/random.hpp"

namespace heal {
namespace {

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
// Stack-resident activations for single-state inference.
template <typename Scalar>
using BoundedVector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1, Eigen::ColMajor, kMaxLayerWidth, 1>;

std::vector<int> layer_widths(const NetworkShape& shape, int outputs) {
    std::vector<int> widths{shape.inputs};
    widths.insert(widths.end(), shape.hidden.begin(), shape.hidden.end());
    widths.push_back(outputs);
    return widths;
}

std::vector<DenseLayer> lay_out(const std::vector<int>& widths, std::size_t& offset) {
    std::vector<DenseLayer> layers;
    for (std::size_t i = 1; i < widths.size(); ++i) {
        DenseLayer layer{widths[i], widths[i - 1], offset, 0};
        offset += static_cast<std::size_t>(layer.rows) * static_cast<std::size_t>(layer.cols);
        layer.bias = offset;
        offset += static_cast<std::size_t>(layer.rows);
        layers.push_back(layer);
    }
    return layers;
}

template <typename Scalar>
auto weights_of(const Scalar* params, const DenseLayer& layer) {
    return Eigen::Map<const Matrix<Scalar>>(params + layer.weights, layer.rows, layer.cols);
}
template <typename Scalar>
auto bias_of(const Scalar* params, const DenseLayer& layer) {
    return Eigen::Map<const Vector<Scalar>>(params + layer.bias, layer.rows);
}

template <typename Scalar>
void mlp_forward(const Scalar* params, const std::vector<DenseLayer>& layers, const Matrix<Scalar>& input,
                 std::vector<Matrix<Scalar>>& outputs) {
    outputs.resize(layers.size());
    const Matrix<Scalar>* in = &input;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        Matrix<Scalar>& out = outputs[l];
        // Starting from the bias lets the product accumulate onto it: no zeroing pass, no bias pass.
        // (Column by column: Eigen's colwise() broadcast indexes modulo the rows and does not vectorise.)
        out.resize(layers[l].rows, in->cols());
        for (Eigen::Index j = 0; j < out.cols(); ++j) out.col(j) = bias_of(params, layers[l]);
        out.noalias() += weights_of(params, layers[l]) * *in;
        if (l + 1 < layers.size()) out.array() = out.array().tanh();
        in = &out;
    }
}

template <typename Scalar>
void mlp_backward(const Scalar* params, Scalar* grad, const std::vector<DenseLayer>& layers,
                  const Matrix<Scalar>& input, const std::vector<Matrix<Scalar>>& outputs,
                  const Matrix<Scalar>& doutput, std::vector<Matrix<Scalar>>& hidden_deltas) {
    hidden_deltas.resize(layers.size() - 1);
    const Matrix<Scalar>* delta = &doutput;  // d loss / d pre-activation of layer l
    for (std::size_t l = layers.size(); l-- > 0;) {
        const DenseLayer& layer = layers[l];
        const Matrix<Scalar>& in = l == 0 ? input : outputs[l - 1];
        Eigen::Map<Matrix<Scalar>>(grad + layer.weights, layer.rows, layer.cols).noalias() =
            *delta * in.transpose();
        Eigen::Map<Vector<Scalar>>(grad + layer.bias, layer.rows) = delta->rowwise().sum();
        if (l == 0) break;
        Matrix<Scalar>& below = hidden_deltas[l - 1];
        below.noalias() = weights_of(params, layer).transpose() * *delta;
        below.array() *= Scalar(1) - in.array().square();  // tanh' = 1 - tanh^2
        delta = &below;
    }
}

template <typename Scalar>
void mlp_single(const Scalar* params, const std::vector<DenseLayer>& layers, std::span<const Scalar> input,
                BoundedVector<Scalar>& out) {
    BoundedVector<Scalar> in = Eigen::Map<const Vector<Scalar>>(input.data(), static_cast<Eigen::Index>(input.size()));
    for (std::size_t l = 0; l < layers.size(); ++l) {
        out = bias_of(params, layers[l]);
        out.noalias() += weights_of(params, layers[l]) * in;
        if (l + 1 == layers.size()) break;
        in = out.array().tanh();
    }
}

// A (rows x cols) matrix with orthonormal rows or columns (whichever are
// fewer), scaled by gain, as torch.nn.init.orthogonal_ builds it.
Eigen::MatrixXd orthogonal(int rows, int cols, double gain, Rng& rng) {
    const int tall = std::max(rows, cols);
    const int narrow = std::min(rows, cols);
    Eigen::MatrixXd gaussian(tall, narrow);
    for (Eigen::Index j = 0; j < narrow; ++j)
        for (Eigen::Index i = 0; i < tall; ++i) gaussian(i, j) = rng.normal();
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
    Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(tall, narrow);
    // Fixing the signs by R's diagonal makes Q uniformly distributed.
    for (Eigen::Index j = 0; j < narrow; ++j)
        if (qr.matrixQR()(j, j) < 0) q.col(j) *= -1.0;
    if (rows < cols) q.transposeInPlace();
    return gain * q;
}

template <typename Scalar>
void initialize_mlp(Vector<Scalar>& params, const std::vector<DenseLayer>& layers, double output_gain, Rng& rng) {
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const DenseLayer& layer = layers[l];
        const double gain = l + 1 == layers.size() ? output_gain : std::sqrt(2.0);
        Eigen::Map<Matrix<Scalar>>(params.data() + layer.weights, layer.rows, layer.cols) =
            orthogonal(layer.rows, layer.cols, gain, rng).template cast<Scalar>();
        Eigen::Map<Vector<Scalar>>(params.data() + layer.bias, layer.rows).setZero();
    }
}

}  // namespace

std::size_t NetworkShape::parameter_count() const {
    std::size_t count = 0;
    for (int outputs : {actions, 1}) {
        const std::vector<int> widths = layer_widths(*this, outputs);
        for (std::size_t i = 1; i < widths.size(); ++i)
            count += static_cast<std::size_t>(widths[i]) * static_cast<std::size_t>(widths[i - 1] + 1);
    }
    return count;
}

std::string shape_problem(const NetworkShape& shape) {
    const auto out_of_range = [](int width) { return width < 1 || width > kMaxLayerWidth; };
    if (out_of_range(shape.inputs)) return fmt::format("input size {} is outside 1..{}", shape.inputs, kMaxLayerWidth);
    if (out_of_range(shape.actions))
        return fmt::format("action count {} is outside 1..{}", shape.actions, kMaxLayerWidth);
    if (shape.hidden.empty() || shape.hidden.size() > static_cast<std::size_t>(kMaxHiddenLayers))
        return fmt::format("{} hidden layers, expected 1..{}", shape.hidden.size(), kMaxHiddenLayers);
    for (std::size_t i = 0; i < shape.hidden.size(); ++i)
        if (out_of_range(shape.hidden[i]))
            return fmt::format("hidden layer {} has width {}, expected 1..{}", i + 1, shape.hidden[i], kMaxLayerWidth);
    return {};
}

std::string describe(const NetworkShape& shape) {
    std::string text = std::to_string(shape.inputs);
    for (int width : shape.hidden) text += fmt::format("-{}", width);
    return text + fmt::format("-{}", shape.actions);
}

void softmax(std::span<float> logits) {
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    float sum = 0.0f;
    for (float& v : logits) sum += (v = std::exp(v - max_logit));
    for (float& v : logits) v /= sum;
}

template <typename Scalar>
ActorCritic<Scalar>::ActorCritic(NetworkShape shape) : shape_(std::move(shape)) {
    if (const std::string problem = shape_problem(shape_); !problem.empty())
        throw std::invalid_argument("network shape: " + problem);
    std::size_t offset = 0;
    actor_layers_ = lay_out(layer_widths(shape_, shape_.actions), offset);
    critic_layers_ = lay_out(layer_widths(shape_, 1), offset);
    parameters_ = Vector::Zero(static_cast<Eigen::Index>(offset));
}

template <typename Scalar>
void ActorCritic<Scalar>::initialize(Rng& rng) {
    initialize_mlp(parameters_, actor_layers_, 0.01, rng);
    initialize_mlp(parameters_, critic_layers_, 1.0, rng);
}

template <typename Scalar>
void ActorCritic<Scalar>::logits(std::span<const Scalar> observation, std::span<Scalar> logits_out) const {
    BoundedVector<Scalar> out;
    mlp_single(parameters_.data(), actor_layers_, observation, out);
    for (int a = 0; a < shape_.actions; ++a) logits_out[static_cast<std::size_t>(a)] = out(a);
}

template <typename Scalar>
Scalar ActorCritic<Scalar>::value(std::span<const Scalar> observation) const {
    BoundedVector<Scalar> out;
    mlp_single(parameters_.data(), critic_layers_, observation, out);
    return out(0);
}

template <typename Scalar>
void ActorCritic<Scalar>::forward(const Matrix& observations, Workspace& ws) const {
    mlp_forward(parameters_.data(), actor_layers_, observations, ws.actor);
    mlp_forward(parameters_.data(), critic_layers_, observations, ws.critic);
}

template <typename Scalar>
void ActorCritic<Scalar>::backward(const Matrix& observations, const Matrix& dlogits, const Matrix& dvalues,
                                   Workspace& ws, Vector& gradient) const {
    gradient.resize(parameters_.size());
    mlp_backward(parameters_.data(), gradient.data(), actor_layers_, observations, ws.actor, dlogits,
                 ws.hidden_deltas);
    mlp_backward(parameters_.data(), gradient.data(), critic_layers_, observations, ws.critic, dvalues,
                 ws.hidden_deltas);
}

template class ActorCritic<float>;
template class ActorCritic<double>;

}  // namespace heal
