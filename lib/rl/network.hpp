#pragma once
// The actor-critic network: two separate tanh MLPs over the same input, one
// giving the policy's action logits, the other the state value (the layout
// Stable-Baselines3 and CleanRL use for PPO, so neither head's loss disturbs
// the other's features). All weights live in one flat vector, so the optimiser,
// gradient clipping, checksums and model files treat them as a whole.
// Forward and backward passes are written by hand.
#include <Eigen/Core>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace heal {

class Rng;

// Upper bound on every layer width: single-state inference keeps its
// activations on the stack within this bound, so it never allocates.
inline constexpr int kMaxLayerWidth = 256;
inline constexpr int kMaxHiddenLayers = 4;

struct NetworkShape {
    int inputs = 0;
    std::vector<int> hidden{64, 64};  // widths of the hidden layers of each MLP
    int actions = 0;

    std::size_t parameter_count() const;
    bool operator==(const NetworkShape&) const = default;
};

// Empty when the shape is usable, otherwise what is wrong with it.
std::string shape_problem(const NetworkShape& shape);
std::string describe(const NetworkShape& shape);  // "7-64-64-4"

// Where one fully connected layer's weights live in the flat parameter vector.
struct DenseLayer {
    int rows;
    int cols;
    std::size_t weights;  // offset of the column-major rows x cols matrix
    std::size_t bias;     // offset of the rows-long bias
};

template <typename Scalar>
class ActorCritic {
public:
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    // Activations of the last batch forward() and backward scratch, kept
    // between minibatches so training does not allocate per minibatch.
    struct Workspace {
        std::vector<Matrix> actor;   // output of each actor layer; back() = logits
        std::vector<Matrix> critic;  // output of each critic layer; back() = values
        // d loss / d pre-activation of each hidden layer; both MLPs reuse them
        // (their hidden widths are equal), so they keep their sizes.
        std::vector<Matrix> hidden_deltas;
    };

    // All weights zero until initialize(); throws std::invalid_argument for a
    // shape shape_problem() rejects.
    explicit ActorCritic(NetworkShape shape);

    // Orthogonal weights (gain sqrt(2) on hidden layers, 0.01 on the policy
    // output, 1 on the value output), zero biases.
    void initialize(Rng& rng);

    const NetworkShape& shape() const { return shape_; }
    Vector& parameters() { return parameters_; }
    const Vector& parameters() const { return parameters_; }
    // Where each layer of the policy and the value MLP lives in parameters(), input side first.
    const std::vector<DenseLayer>& actor_layers() const { return actor_layers_; }
    const std::vector<DenseLayer>& critic_layers() const { return critic_layers_; }

    // One state. Never allocates.
    void logits(std::span<const Scalar> observation, std::span<Scalar> logits_out) const;
    Scalar value(std::span<const Scalar> observation) const;

    // One observation per column of `observations`.
    void forward(const Matrix& observations, Workspace& ws) const;
    // Gradient of a loss whose partial derivatives w.r.t. the logits and the
    // values of the last forward() are dlogits (actions x B) and dvalues (1 x B).
    void backward(const Matrix& observations, const Matrix& dlogits, const Matrix& dvalues,
                  Workspace& ws, Vector& gradient) const;

private:
    NetworkShape shape_;
    std::vector<DenseLayer> actor_layers_;
    std::vector<DenseLayer> critic_layers_;
    Vector parameters_;
};

// Turns logits into probabilities in place; the largest logit is subtracted
// first, so large finite logits do not overflow. Never allocates.
void softmax(std::span<float> logits);

extern template class ActorCritic<float>;
extern template class ActorCritic<double>;

}  // namespace heal
