#pragma once
// Where the cgroup hierarchies are mounted, detected once at start-up.
#include <filesystem>
#include <string>
#include <string_view>

namespace heal {

struct CgroupLayout {
    enum class Kind {
        unified,  // pure cgroup v2 at /sys/fs/cgroup
        hybrid,   // v2 at /sys/fs/cgroup/unified, v1 controllers beside it
        legacy,   // v1 controllers only
        none,     // no cgroup file system mounted
    };

    Kind kind = Kind::none;
    // Absolute paths below the sampler's root; "" when that hierarchy is absent.
    std::string v2_root;
    std::string cpuacct_root;
    std::string memory_root;

    // Looks under `root`/sys/fs/cgroup (root is "/" outside tests).
    static CgroupLayout detect(const std::filesystem::path& root);
};

std::string_view to_string(CgroupLayout::Kind kind);

}  // namespace heal
