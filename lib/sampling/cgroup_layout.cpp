#include "sampling/cgroup_layout.hpp"

#include <initializer_list>

#include "sampling/file_reader.hpp"

namespace heal {
namespace {

// The first of `names` that is a directory under `base`, or "".
std::string first_directory(const std::filesystem::path& base,
                            std::initializer_list<const char*> names) {
    for (const char* name : names) {
        auto candidate = (base / name).string();
        if (is_directory(candidate)) return candidate;
    }
    return {};
}

}  // namespace

CgroupLayout CgroupLayout::detect(const std::filesystem::path& root) {
    const auto base = root / "sys/fs/cgroup";
    CgroupLayout layout;
    std::error_code error;  // unreadable counts as absent
    if (std::filesystem::exists(base / "cgroup.controllers", error)) {
        layout.kind = Kind::unified;
        layout.v2_root = base.string();
        return layout;
    }
    layout.v2_root = first_directory(base, {"unified"});
    // Some distributions mount cpuacct only jointly as "cpu,cpuacct".
    layout.cpuacct_root = first_directory(base, {"cpuacct", "cpu,cpuacct"});
    layout.memory_root = first_directory(base, {"memory"});
    if (!layout.v2_root.empty()) {
        layout.kind = Kind::hybrid;
    } else if (!layout.cpuacct_root.empty() || !layout.memory_root.empty()) {
        layout.kind = Kind::legacy;
    }
    return layout;
}

std::string_view to_string(CgroupLayout::Kind kind) {
    switch (kind) {
        case CgroupLayout::Kind::unified: return "unified";
        case CgroupLayout::Kind::hybrid: return "hybrid";
        case CgroupLayout::Kind::legacy: return "legacy";
        case CgroupLayout::Kind::none: return "none";
    }
    return "unknown";
}

}  // namespace heal
