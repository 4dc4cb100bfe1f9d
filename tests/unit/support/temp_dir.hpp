#pragma once
// A scratch directory, removed with everything in it; shared by every area's
// unit tests and by the benchmarks.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heal::test {

class TempDir {
public:
    // A new directory in `parent` ($TMPDIR, else /tmp, unless given).
    explicit TempDir(const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
        auto pattern = (parent / "heal-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a scratch directory in " + parent.string() + ": " +
                                     std::strerror(errno));
        }
        root_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path operator/(const std::string& relative) const { return root_ / relative; }

    // Writes `contents` to `relative` (creating parents) and returns its path.
    std::filesystem::path write(const std::string& relative, std::string_view contents, mode_t mode = 0644) const {
        const auto path = root_ / relative;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream out{path, std::ios::binary | std::ios::trunc};
        out << contents;
        out.close();
        if (!out || ::chmod(path.c_str(), mode) < 0) throw std::runtime_error("cannot write " + path.string());
        return path;
    }

private:
    std::filesystem::path root_;
};

}  // namespace heal::test
