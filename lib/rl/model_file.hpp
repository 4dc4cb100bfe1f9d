#pragma once
// The policy model file. Format version 1, little-endian:
//   8 bytes  magic "HEALPPO\0"
//   u32      format version
//   u32      inputs, u32 actions, u32 hidden layer count, then u32 per hidden width
//   u64      parameter count (must match the shape)
//   f32 x n  parameters, in ActorCritic's flat layout
//   u64      FNV-1a hash of every byte before it
#include <filesystem>

#include "rl/network.hpp"
#include "rl/trainer.hpp"

namespace heal {

inline constexpr std::uint32_t kModelFormatVersion = 1;

// Writes to a temporary file in the same directory, fsyncs it, renames it over
// path and fsyncs the directory: readers see the old model or the new one,
// never a torn one. Throws ModelError.
void save_model(const std::filesystem::path& path, const ActorCritic<float>& network);

// Throws ModelError naming the file and the problem: unreadable, truncated,
// bad magic, unsupported version, inconsistent shape, checksum mismatch,
// non-finite weight.
ActorCritic<float> load_model(const std::filesystem::path& path);

}  // namespace heal
