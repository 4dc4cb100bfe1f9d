#include "sampling/file_reader.hpp"

#include <cerrno>
#include <cstddef>

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

}  // namespace

int read_file(const std::string& path, std::string& buffer) {
    buffer.clear();
    const FileDescriptor fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.get() < 0) return errno;

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
        const ssize_t n = ::read(fd.get(), buffer.data() + used, buffer.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            buffer.clear();
            return error;
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    buffer.resize(used);
    return 0;
}

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace heal
