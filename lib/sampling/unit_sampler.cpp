#include "sampling/unit_sampler.hpp"

#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <dirent.h>

#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"

namespace heal {
namespace {

// Deeper cgroup trees than this under one unit are not real.
constexpr int kMaxTreeDepth = 16;

std::string under(const std::string& root, const std::string& relative) {
    if (root.empty()) return {};
    if (relative.empty()) return root;
    return root + "/" + relative;
}

}  // namespace

std::string relative_cgroup_path(const UnitSpec& spec) {
    if (spec.unit.empty()) throw std::invalid_argument("empty unit name");
    if (!spec.cgroup_path && spec.unit.find('/') != std::string::npos) {
        throw std::invalid_argument("unit name \"" + spec.unit + "\" contains '/'");
    }
    const std::string given = spec.cgroup_path ? *spec.cgroup_path : "system.slice/" + spec.unit;
    if (given.find('\0') != std::string::npos) {
        throw std::invalid_argument("cgroup path of " + spec.unit + " contains a NUL");
    }
    std::string relative;
    std::string_view rest = given;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const auto component = rest.substr(0, slash);
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
        if (component.empty()) continue;
        if (component == "." || component == "..") {
            throw std::invalid_argument("cgroup path \"" + given + "\" of " + spec.unit +
                                        " has a \"" + std::string{component} + "\" component");
        }
        if (!relative.empty()) relative += '/';
        relative += component;
    }
    return relative;
}

UnitSampler::UnitSampler(UnitSpec spec, const CgroupLayout& layout,
                         const std::filesystem::path& root)
    : spec_(std::move(spec)) {
    const auto relative = relative_cgroup_path(spec_);
    v2_dir_ = under(layout.v2_root, relative);
    cpuacct_dir_ = under(layout.cpuacct_root, relative);
    memory_dir_ = under(layout.memory_root, relative);
    procs_dir_ = !v2_dir_.empty() ? v2_dir_ : !memory_dir_.empty() ? memory_dir_ : cpuacct_dir_;
    proc_dir_ = (root / "proc").string();
}

UnitSample UnitSampler::sample(std::chrono::steady_clock::time_point now) {
    if (!follow_cgroup()) return stopped();
    const auto usage = read_cpu_usage_usec();
    UnitSample out;
    out.unit = spec_.unit;
    out.memory_bytes = read_memory_bytes();
    out.memory_max_bytes = read_memory_max();
    out.memory_high_bytes = read_memory_high();
    out.cpu_limit_percent = read_cpu_limit_percent();
    out.cpu_pressure = read_pressure("cpu.pressure");
    out.memory_pressure = read_pressure("memory.pressure");
    out.io_pressure = read_pressure("io.pressure");
    // A unit stopping mid-read takes its counters with it: report it stopped
    // rather than as a running unit with zeroes.
    if (!usage && cgroup_inode() == 0) return stopped();
    out.present = true;
    out.cgroup_id = cgroup_inode_;

    // A restarted unit gets a fresh cgroup whose counter starts again at 0.
    const bool measured = usage && baseline_ && *usage >= baseline_->usage_usec && now > baseline_->time;
    if (measured) {
        const auto elapsed_us =
            std::chrono::duration<double, std::micro>(now - baseline_->time).count();
        out.cpu_percent = 100.0 * static_cast<double>(*usage - baseline_->usage_usec) / elapsed_us;
    }
    // Reading every thread's state is most of what a unit costs a tick; a
    // unit that used almost no CPU since the last sample had no thread
    // running, and one starved that far is not worth the reads.
    if (!measured || out.cpu_percent >= kRunnableScanMinPercent) out.runnable_threads = count_runnable_threads();
    if (usage) {
        baseline_ = Baseline{*usage, now};
    } else {
        baseline_.reset();
    }
    return out;
}

UnitSample UnitSampler::stopped() {
    baseline_.reset();
    files_.clear();
    UnitSample out;
    out.unit = spec_.unit;
    return out;
}

unsigned long UnitSampler::cgroup_inode() const {
    for (const auto* dir : {&v2_dir_, &cpuacct_dir_, &memory_dir_}) {
        if (dir->empty()) continue;
        if (const unsigned long inode = directory_inode(*dir)) return inode;
    }
    return 0;
}

bool UnitSampler::follow_cgroup() {
    const unsigned long inode = cgroup_inode();
    if (inode != cgroup_inode_) files_.clear();
    cgroup_inode_ = inode;
    return inode != 0;
}

bool UnitSampler::read(const std::string& dir, const char* name, Contents contents) {
    if (dir.empty()) return false;
    path_.assign(dir);
    path_ += '/';
    path_ += name;
    auto file = files_.find(path_);
    if (file == files_.end()) file = files_.emplace(path_, KernelFile(path_, contents)).first;
    return file->second.read(buffer_) == 0;
}

std::optional<std::uint64_t> UnitSampler::read_cpu_usage_usec() {
    if (read(v2_dir_, "cpu.stat")) {
        if (const auto usec = parse_cpu_stat_usage_usec(buffer_)) return usec;
    }
    if (read(cpuacct_dir_, "cpuacct.usage")) {
        if (const auto nsec = parse_single_u64(buffer_)) return *nsec / 1000;
    }
    return std::nullopt;
}

// The working set, as the kubelet counts it: the cgroup's usage less the
// page cache the kernel may drop at once (inactive_file). A service that
// reads files fills its cgroup with cache up to its limit, and is healthy;
// what it holds is what is judged.
std::uint64_t UnitSampler::read_memory_bytes() {
    if (read(v2_dir_, "memory.current")) {
        if (const auto bytes = parse_single_u64(buffer_)) return without_inactive_file(*bytes, v2_dir_, "inactive_file");
    }
    if (read(memory_dir_, "memory.usage_in_bytes")) {
        if (const auto bytes = parse_single_u64(buffer_))
            return without_inactive_file(*bytes, memory_dir_, "total_inactive_file");
    }
    return rss_of_tree();
}

std::uint64_t UnitSampler::without_inactive_file(std::uint64_t usage, const std::string& dir, std::string_view key) {
    if (!read(dir, "memory.stat")) return usage;
    const auto inactive = parse_memory_stat_field(buffer_, key);
    if (!inactive) return usage;
    return *inactive < usage ? usage - *inactive : 0;
}

std::optional<std::uint64_t> UnitSampler::read_memory_max() {
    if (read(v2_dir_, "memory.max")) {
        if (const auto limit = parse_memory_limit(buffer_)) return limit->bytes;
    }
    if (read(memory_dir_, "memory.limit_in_bytes")) {
        if (const auto limit = parse_memory_limit(buffer_)) return limit->bytes;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> UnitSampler::read_memory_high() {
    if (!read(v2_dir_, "memory.high")) return std::nullopt;
    const auto limit = parse_memory_limit(buffer_);
    return limit ? limit->bytes : std::nullopt;
}

std::optional<double> UnitSampler::read_cpu_limit_percent() {
    if (!read(v2_dir_, "cpu.max")) return std::nullopt;
    const auto limit = parse_cpu_max(buffer_);
    return limit ? limit->percent : std::nullopt;
}

std::optional<Pressure> UnitSampler::read_pressure(const char* name) {
    if (!read(v2_dir_, name)) return std::nullopt;
    return parse_pressure(buffer_);
}

std::uint64_t UnitSampler::rss_of_tree() {
    if (procs_dir_.empty()) return 0;
    walk_dir_.assign(procs_dir_);
    return sum_over_tree(0, "cgroup.procs", &UnitSampler::rss_of_listed_processes);
}

unsigned UnitSampler::count_runnable_threads() {
    if (procs_dir_.empty()) return 0;
    walk_dir_.assign(procs_dir_);
    // v2 lists a cgroup's threads in cgroup.threads, v1 in tasks.
    const char* threads = v2_dir_.empty() ? "tasks" : "cgroup.threads";
    return static_cast<unsigned>(sum_over_tree(0, threads, &UnitSampler::runnable_of_listed_threads));
}

// `of_listed` summed over walk_dir_ and its child cgroups, each read from its
// `list_file`, as the kernel's own counters also count descendants.
std::uint64_t UnitSampler::sum_over_tree(int depth, const char* list_file, std::uint64_t (UnitSampler::*of_listed)()) {
    // The unit's own list stays open like its other files; child cgroups come
    // and go, so theirs are opened at each read.
    bool listed = false;
    if (depth == 0) {
        listed = read(walk_dir_, list_file, Contents::streamed);
    } else {
        path_.assign(walk_dir_);
        path_ += '/';
        path_ += list_file;
        listed = read_file(path_, buffer_) == 0;
    }
    std::uint64_t total = listed ? (this->*of_listed)() : 0;
    if (depth >= kMaxTreeDepth || (depth == 0 && !has_child_cgroups())) return total;

    const std::unique_ptr<DIR, int (*)(DIR*)> dir{::opendir(walk_dir_.c_str()), &::closedir};
    if (!dir) return total;
    const auto length = walk_dir_.size();
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
        walk_dir_ += '/';
        walk_dir_ += name;
        if (entry->d_type == DT_DIR || is_directory(walk_dir_)) total += sum_over_tree(depth + 1, list_file, of_listed);
        walk_dir_.resize(length);
    }
    return total;
}

// Listing a cgroup's directory is the dearest part of a walk; v2 says in
// cgroup.stat (kept open) whether there is anything below. v1 has no such
// count: there the directory is listed.
bool UnitSampler::has_child_cgroups() {
    if (!read(v2_dir_, "cgroup.stat")) return true;
    const auto descendants = parse_memory_stat_field(buffer_, "nr_descendants");  // the same "key value" lines
    return !descendants || *descendants > 0;
}

// Summed VmRSS of the processes listed in buffer_ (a cgroup.procs); those
// that exit while being read are skipped. Pages shared between the processes
// count once per process, so this can overstate a little.
std::uint64_t UnitSampler::rss_of_listed_processes() {
    std::uint64_t total = 0;
    std::string_view rest = buffer_;
    while (!rest.empty()) {
        const auto pid = next_line(rest);
        if (!is_pid(pid)) continue;
        path_.assign(proc_dir_);
        path_ += '/';
        path_ += pid;
        path_ += "/status";
        if (read_file(path_, status_buffer_, Contents::whole_at_once) != 0) continue;
        total += parse_status_vmrss_bytes(status_buffer_).value_or(0);
    }
    return total;
}

// Threads listed in buffer_ (a cgroup.threads or tasks) whose state is R;
// those that exit while being read are skipped.
std::uint64_t UnitSampler::runnable_of_listed_threads() {
    std::uint64_t runnable = 0;
    std::string_view rest = buffer_;
    while (!rest.empty()) {
        const auto tid = next_line(rest);
        if (!is_pid(tid)) continue;
        path_.assign(proc_dir_);
        path_ += '/';
        path_ += tid;
        path_ += "/stat";
        if (read_file(path_, status_buffer_, Contents::whole_at_once) != 0) continue;
        if (parse_stat_state(status_buffer_) == 'R') ++runnable;
    }
    return runnable;
}

}  // namespace heal
