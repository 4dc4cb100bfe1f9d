#pragma once
// A scratch file-system root for sampler tests: optionally a copy of a
// fixture tree, with files rewritten between samples. Removed on destruction.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "support/temp_dir.hpp"

namespace heal::test {

inline std::filesystem::path fixture(std::string_view name) {
    return std::filesystem::path{HEAL_FIXTURES_DIR} / "sampling" / name;
}

class TempTree : public TempDir {
public:
    TempTree() = default;
    // A copy of the fixture tree tests/fixtures/sampling/<name>.
    explicit TempTree(std::string_view fixture_name) {
        std::filesystem::copy(fixture(fixture_name), root(), std::filesystem::copy_options::recursive);
    }

    void remove(const std::string& relative) const { std::filesystem::remove_all(root() / relative); }
};

}  // namespace heal::test
