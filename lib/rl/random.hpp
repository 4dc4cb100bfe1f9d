#pragma once
// A small generator whose streams are identical on every platform and standard
// library (std::*_distribution are not), so training is reproducible per seed.
#include <array>
#include <cstdint>

namespace heal {

class Rng {
public:
    explicit Rng(std::uint64_t seed);

    std::uint64_t next();                          // xoshiro256**
    double uniform();                              // [0, 1)
    double uniform(double lo, double hi);          // [lo, hi)
    std::uint64_t below(std::uint64_t n);          // [0, n), unbiased; n > 0
    double normal();                               // standard normal
    bool bernoulli(double p) { return uniform() < p; }

private:
    std::array<std::uint64_t, 4> state_;
};

// Derives an independent seed for a sub-stream (environment, evaluation, ...).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace heal
