#pragma once
// One watched systemd unit: CPU and memory of its cgroup, whichever cgroup
// layout the machine has.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sampling/cgroup_layout.hpp"
#include "sampling/file_reader.hpp"
#include "sampling/sample.hpp"

namespace heal {

struct UnitSpec {
    std::string unit;  // "nginx.service"
    // systemd's ControlGroup property, e.g. "/system.slice/nginx.service";
    // absent means "/system.slice/<unit>". "/" is the root cgroup.
    std::optional<std::string> cgroup_path;

    bool operator==(const UnitSpec&) const = default;
};

// The unit's cgroup relative to a hierarchy root, without leading or
// doubled slashes ("" for the root cgroup). Throws std::invalid_argument for
// an empty unit name, a unit name containing '/', or a path with a "." or
// ".." component or a NUL, so the sampler never reads outside the hierarchy.
std::string relative_cgroup_path(const UnitSpec& spec);

// Samples one unit, remembering its last CPU counter so CPU % comes from the
// delta. Per file it falls back: v2 first, then v1, then (memory only) the
// summed VmRSS of the cgroup's processes, as in containers without a memory
// controller.
class UnitSampler {
public:
    // Below this CPU % since the previous sample, a unit's threads are not
    // read: it counts no runnable thread.
    static constexpr double kRunnableScanMinPercent = 1.0;

    // `root` is the file-system root ("/" outside tests); the layout must
    // have been detected under the same root.
    UnitSampler(UnitSpec spec, const CgroupLayout& layout, const std::filesystem::path& root);

    // `now` is a steady-clock reading; CPU % is usage over the elapsed time
    // since the previous call, as a share of one CPU (0 on the first call).
    UnitSample sample(std::chrono::steady_clock::time_point now);

    const UnitSpec& spec() const { return spec_; }

private:
    struct Baseline {
        std::uint64_t usage_usec = 0;
        std::chrono::steady_clock::time_point time;
    };

    UnitSample stopped();  // forgets the CPU baseline
    // The inode of the unit's cgroup directory (the first hierarchy that has
    // one); 0 when there is none.
    unsigned long cgroup_inode() const;
    std::optional<std::uint64_t> read_cpu_usage_usec();
    std::uint64_t read_memory_bytes();
    std::optional<std::uint64_t> read_memory_max();
    // `usage` less the inactive_file line (`key`) of dir's memory.stat, if readable.
    std::uint64_t without_inactive_file(std::uint64_t usage, const std::string& dir, std::string_view key);
    // The v2-only files: absent on v1 and when "max".
    std::optional<std::uint64_t> read_memory_high();
    std::optional<double> read_cpu_limit_percent();
    std::optional<Pressure> read_pressure(const char* name);
    std::uint64_t rss_of_tree();
    unsigned count_runnable_threads();
    std::uint64_t sum_over_tree(int depth, const char* list_file, std::uint64_t (UnitSampler::*of_listed)());
    std::uint64_t rss_of_listed_processes();
    std::uint64_t runnable_of_listed_threads();
    bool has_child_cgroups();
    // Reads `dir`/`name` into buffer_; false when absent or unreadable.
    // The unit's own files stay open between ticks (KernelFile); all but its
    // process lists are cgroup interface files, made whole at each read.
    bool read(const std::string& dir, const char* name, Contents contents = Contents::whole_at_once);
    // False when the unit has no cgroup. Forgets the open files when the
    // cgroup is a new one (the unit restarted).
    bool follow_cgroup();

    UnitSpec spec_;
    // The unit's directory in each hierarchy; "" where that hierarchy is absent.
    std::string v2_dir_;
    std::string cpuacct_dir_;
    std::string memory_dir_;
    std::string procs_dir_;  // where the VmRSS fallback lists the processes
    std::string proc_dir_;   // <root>/proc
    // Scratch reused every tick so sampling does not allocate.
    std::string path_;
    std::string walk_dir_;
    std::string buffer_;
    std::string status_buffer_;
    std::optional<Baseline> baseline_;
    std::map<std::string, KernelFile> files_;  // by path
    unsigned long cgroup_inode_ = 0;
};

}  // namespace heal
