#pragma once
// The one place the sampler touches the file system's contents: every tick
// reads a few dozen small kernel files, so this reuses the caller's buffer.
#include <string>

namespace heal {

// Reads the whole file at `path` into `buffer`, reusing its capacity.
// Returns 0, or the errno of the failed open or read (EFBIG past 4 MiB,
// which no kernel file the sampler reads comes near).
int read_file(const std::string& path, std::string& buffer);

// True when `path` names an existing directory (following symlinks).
bool is_directory(const std::string& path);

}  // namespace heal
