#include "log.hpp"

#include <sys/uio.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>
#include <systemd/sd-journal.h>

namespace healerd {
namespace {

bool to_journal = false;
std::mutex stderr_mutex;  // worker threads log too; keep lines whole

const char* level_prefix(int priority) {
    if (priority <= LOG_ERR) return "error: ";
    if (priority == LOG_WARNING) return "warning: ";
    return "";
}

}  // namespace

void init_log() { to_journal = std::getenv("INVOCATION_ID") != nullptr || std::getenv("JOURNAL_STREAM") != nullptr; }

void log(int priority, std::string_view id, const std::string& message, const std::vector<LogField>& fields) {
    if (!to_journal) {
        std::lock_guard lock(stderr_mutex);
        fmt::print(stderr, "healerd: {}{}\n", level_prefix(priority), message);
        std::fflush(stderr);
        return;
    }
    std::vector<std::string> lines;
    lines.reserve(fields.size() + 3);
    lines.push_back(fmt::format("MESSAGE={}", message));
    lines.push_back(fmt::format("PRIORITY={}", priority));
    if (!id.empty()) lines.push_back(fmt::format("MESSAGE_ID={}", id));
    for (const LogField& field : fields) lines.push_back(fmt::format("{}={}", field.name, field.value));
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (std::string& line : lines) iov.push_back(iovec{line.data(), line.size()});
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace healerd
