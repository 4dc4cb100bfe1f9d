#pragma once
// The fuzz input as a file, for readers that take a path: one per process,
// rewritten for every input, removed at exit.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace heal::fuzz {

inline const std::filesystem::path& write_input(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path path = [] {
        std::string pattern = (std::filesystem::temp_directory_path() / "heal-fuzz-XXXXXX").string();
        const int fd = ::mkstemp(pattern.data());
        if (fd < 0) std::abort();
        ::close(fd);
        static const std::string removed_at_exit = pattern;
        std::atexit([] { ::unlink(removed_at_exit.c_str()); });
        return std::filesystem::path(pattern);
    }();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) std::abort();
    return path;
}

}  // namespace heal::fuzz
