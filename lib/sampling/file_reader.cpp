#include "sampling/file_reader.hpp"

#include <cerrno>
#include <cstddef>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace heal {
namespace {

constexpr std::size_t kInitialSize = 4096;
constexpr std::size_t kMaxSize = std::size_t{4} << 20;

// Closes the descriptor on every exit path.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// Reads from offset 0 to the end of `fd` into `buffer`.
int read_all(int fd, std::string& buffer, Contents contents) {
    std::size_t used = 0;
    buffer.resize(buffer.capacity() < kInitialSize ? kInitialSize : buffer.capacity());
    for (;;) {
        if (used == buffer.size()) {
            if (buffer.size() >= kMaxSize) {
                buffer.clear();
                return EFBIG;
            }
            buffer.resize(buffer.size() * 2);
        }
        const ssize_t n = ::pread(fd, buffer.data() + used, buffer.size() - used, static_cast<off_t>(used));
        if (n < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            buffer.clear();
            return error;
        }
        if (n == 0) break;
        const bool short_read = used + static_cast<std::size_t>(n) < buffer.size();
        used += static_cast<std::size_t>(n);
        if (short_read && contents == Contents::whole_at_once) break;
    }
    buffer.resize(used);
    return 0;
}

int open_read_only(const std::string& path) { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }

}  // namespace

int read_file(const std::string& path, std::string& buffer, Contents contents) {
    buffer.clear();
    const FileDescriptor fd{open_read_only(path)};
    if (fd.get() < 0) return errno;
    return read_all(fd.get(), buffer, contents);
}

KernelFile::KernelFile(KernelFile&& other) noexcept
    : path_(std::move(other.path_)),
      contents_(other.contents_),
      fd_(std::exchange(other.fd_, -1)),
      missing_reads_left_(std::exchange(other.missing_reads_left_, 0)) {}

KernelFile& KernelFile::operator=(KernelFile&& other) noexcept {
    if (this != &other) {
        close();
        path_ = std::move(other.path_);
        contents_ = other.contents_;
        fd_ = std::exchange(other.fd_, -1);
        missing_reads_left_ = std::exchange(other.missing_reads_left_, 0);
    }
    return *this;
}

KernelFile& KernelFile::operator=(const KernelFile& other) {
    if (this != &other) {
        close();
        path_ = other.path_;
        contents_ = other.contents_;
        missing_reads_left_ = 0;
    }
    return *this;
}

void KernelFile::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

int KernelFile::read(std::string& buffer) {
    buffer.clear();
    if (missing_reads_left_ > 0) {
        --missing_reads_left_;
        return ENOENT;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (fd_ < 0) {
            fd_ = open_read_only(path_);
            if (fd_ < 0) {
                const int error = errno;
                if (error == ENOENT) missing_reads_left_ = kMissingRetryReads - 1;
                return error;
            }
        }
        const int error = read_all(fd_, buffer, contents_);
        if (error == 0) return 0;
        close();
        if (error != ENODEV && error != ESTALE) return error;
    }
    return ENODEV;
}

bool is_directory(const std::string& path) {
    return directory_inode(path) != 0;
}

unsigned long directory_inode(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return 0;
    return info.st_ino;
}

}  // namespace heal
