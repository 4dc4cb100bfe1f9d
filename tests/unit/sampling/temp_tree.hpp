#pragma once
// A scratch file-system root for sampler tests: optionally a copy of a
// fixture tree, with files rewritten between samples. Removed on destruction.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heal::test {

inline std::filesystem::path fixture(std::string_view name) {
    return std::filesystem::path{HEAL_FIXTURES_DIR} / "sampling" / name;
}

class TempTree {
public:
    TempTree() {
        auto pattern = (std::filesystem::temp_directory_path() / "heal-sampling-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        root_ = pattern;
    }
    // A copy of the fixture tree tests/fixtures/sampling/<name>.
    explicit TempTree(std::string_view fixture_name) : TempTree() {
        std::filesystem::copy(fixture(fixture_name), root_,
                              std::filesystem::copy_options::recursive);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;
    ~TempTree() {
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }

    const std::filesystem::path& root() const { return root_; }

    void write(const std::string& relative, std::string_view contents) const {
        const auto path = root_ / relative;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream out{path, std::ios::trunc};
        out << contents;
        if (!out) throw std::runtime_error("cannot write " + path.string());
    }

    void remove(const std::string& relative) const { std::filesystem::remove_all(root_ / relative); }

private:
    std::filesystem::path root_;
};

}  // namespace heal::test
