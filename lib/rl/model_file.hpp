#pragma once
// The policy model file. Format version 3, little-endian:
//   8 bytes  magic "HEALPPO\0"
//   u32      format version
//   u32      inputs, u32 actions, u32 hidden layer count, then u32 per hidden width
//   u64      parameter count (must match the shape)
//   f32 x n  parameters, in ActorCritic's flat layout
//   u32      provenance length, then that many bytes: a JSON object saying
//            where the model comes from (rl/provenance.hpp); absent in format 2
//   u64      FNV-1a hash of every byte before it
#include <filesystem>
#include <string>
#include <string_view>

#include "rl/network.hpp"
#include "rl/observation.hpp"
#include "rl/trainer.hpp"

namespace heal {

// 2: the observation gained the incident features (15 inputs). Version 1
// files (7 inputs) are refused with a request to retrain. 3: provenance;
// version 2 files are read, with none.
inline constexpr std::uint32_t kModelFormatVersion = 3;
inline constexpr std::size_t kMaxProvenanceBytes = 64 * 1024;

// The largest |parameter| a model may hold. Trained weights here are O(1):
// initialisation gives at most sqrt(2), and each Adam step moves a weight by
// about the learning rate (3e-4), so even 10^5 updates stay below 30. The
// bound also keeps inference finite: with inputs in [0, 1], tanh activations
// in [-1, 1] and layers at most kMaxLayerWidth wide, no pre-activation exceeds
// (256 + 1) * 1e4, about 2.6e6, far from float's 3.4e38.
inline constexpr float kMaxModelParameter = 1e4f;

// Empty when every parameter is finite and within +-kMaxModelParameter,
// otherwise the first offender, e.g. "actor weight 3.4e+38 at layer 1
// (parameter 0) is beyond the bound 1e+04".
std::string parameter_problem(const ActorCritic<float>& network);

// Empty when a forward pass over the probe observations gives, for each,
// probabilities that are finite, in [0, 1] and sum to 1 within 1e-4, and a
// finite value; otherwise the first probe that does not and why. The probes
// span the encoded observation's range (every feature in [0, 1]): all zeros,
// all halves, all ones, and each feature alone at 1 and alone at 0.
std::string probe_problem(const ActorCritic<float>& network);

// Writes to a temporary file in the same directory, fsyncs it, renames it over
// path and fsyncs the directory: readers see the old model or the new one,
// never a torn one. Throws ModelError, and writes nothing, for a network that
// parameter_problem or probe_problem finds fault with.
// A provenance longer than kMaxProvenanceBytes is refused the same way.
void save_model(const std::filesystem::path& path, const ActorCritic<float>& network,
                std::string_view provenance = {});

// Throws ModelError naming the file and the problem: unreadable, truncated,
// bad magic, unsupported version, inconsistent shape, checksum mismatch, or
// a network that parameter_problem or probe_problem finds fault with.
struct ModelFile {
    ActorCritic<float> network;
    std::string provenance;  // as saved; "" for a format 2 file
};
ModelFile load_model_file(const std::filesystem::path& path);
ActorCritic<float> load_model(const std::filesystem::path& path);

// Removes the temporary files save_model leaves beside `path` when the
// process is killed mid-save (PATH.tmp-XXXXXX, regular files only); returns
// how many. Call it only while nothing can be saving to `path`.
std::size_t remove_orphan_temporaries(const std::filesystem::path& path);

}  // namespace heal
