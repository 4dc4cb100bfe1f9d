#pragma once
// The daemon's Sampler: the machine from /proc, each watched unit from its cgroup.
#include <chrono>
#include <filesystem>
#include <functional>
#include <vector>

#include "sampling/cgroup_layout.hpp"
#include "sampling/sample.hpp"
#include "sampling/system_sampler.hpp"
#include "sampling/unit_sampler.hpp"

namespace heal {

// Source of the monotonic time unit CPU % is measured against; tests inject
// one so percentages come out exact.
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class ProcSampler final : public Sampler {
public:
    // `root` is the file-system root ("/" outside tests); the cgroup layout is
    // detected under it once, here. An empty `steady_now` means
    // std::chrono::steady_clock::now. Throws std::invalid_argument for a bad
    // UnitSpec (see relative_cgroup_path).
    explicit ProcSampler(std::vector<UnitSpec> units = {},
                         const std::filesystem::path& root = "/", SteadyClock steady_now = {});

    // Throws SampleError when /proc/stat or /proc/meminfo is unreadable or
    // malformed. Stopped units come back with present = false.
    Sample sample() override;

    // Replaces the watched units; units watched before keep their CPU baseline.
    // Throws std::invalid_argument for a bad UnitSpec, leaving the old set.
    void watch(std::vector<UnitSpec> units);

    const CgroupLayout& layout() const { return layout_; }

private:
    std::filesystem::path root_;
    CgroupLayout layout_;
    SteadyClock steady_now_;
    SystemSampler system_;
    std::vector<UnitSampler> units_;
};

}  // namespace heal
