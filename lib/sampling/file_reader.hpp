#pragma once
// The one place the sampler touches the file system's contents: every tick
// reads a few dozen small kernel files, so this reuses the caller's buffer.
#include <string>
#include <utility>

namespace heal {

// How a file's contents come. Most kernel files are made whole at each read
// (single_open seq files: /proc/stat, /proc/PID/status, PSI, every cgroup
// interface file but the lists), so a read shorter than asked is the end
// and the read that returns 0 is a wasted syscall. A list of records
// (cgroup.procs, cgroup.threads, tasks, /proc/PID/maps) comes a page of
// records at a time: short reads before the end; and a regular file being
// written may read short too.
enum class Contents { whole_at_once, streamed };

// Reads the whole file at `path` into `buffer`, reusing its capacity.
// Returns 0, or the errno of the failed open or read (EFBIG past 4 MiB,
// which no kernel file the sampler reads comes near).
int read_file(const std::string& path, std::string& buffer, Contents contents = Contents::streamed);

// True when `path` names an existing directory (following symlinks).
bool is_directory(const std::string& path);
// The inode of the directory at `path`, 0 when there is none: a cgroup
// removed and created again (a restarted unit) has a new one.
unsigned long directory_inode(const std::string& path);

// A kernel file read again every tick. It stays open and is re-read from
// offset 0 (pread): /proc, PSI and cgroup files produce fresh contents on
// every read, and the open and close a plain read needs cost more than the
// read itself. A file whose kernel object went away (ENODEV, ESTALE: a
// removed cgroup) is opened again by path, once, within the same read.
class KernelFile {
public:
    explicit KernelFile(std::string path, Contents contents = Contents::streamed)
        : path_(std::move(path)), contents_(contents) {}
    ~KernelFile() { close(); }
    KernelFile(KernelFile&& other) noexcept;
    KernelFile& operator=(KernelFile&& other) noexcept;
    // A copy names the same file and opens its own descriptor when first read.
    KernelFile(const KernelFile& other) : path_(other.path_), contents_(other.contents_) {}  // and looks for it at once
    KernelFile& operator=(const KernelFile& other);

    // Like read_file: the whole file into `buffer`; 0 or an errno. A failed
    // open is tried again at the next read, except for a file that does not
    // exist: that one only every kMissingRetryReads reads, as a cgroup's
    // files appear only when systemd enables a controller (set-property).
    int read(std::string& buffer);
    static constexpr int kMissingRetryReads = 10;
    const std::string& path() const { return path_; }

private:
    void close();

    std::string path_;
    Contents contents_;
    int fd_ = -1;
    int missing_reads_left_ = 0;  // reads still answered ENOENT without a look
};

}  // namespace heal
