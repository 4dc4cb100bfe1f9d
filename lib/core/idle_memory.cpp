#include "core/idle_memory.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace heal {
namespace {

std::string_view next_field(std::string_view& line) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) return {};
    line.remove_prefix(start);
    const auto end = line.find(' ');
    const auto field = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    return field;
}

bool parse_hex(std::string_view text, std::uintptr_t& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    return error == std::errc{} && end == text.data() + text.size();
}

// "7f12a000-7f12c000 r-xp 00000000 08:01 1234   /usr/lib/libc.so.6"; false
// for any other line (the per-mapping "Key:  N kB" lines).
bool parse_mapping_header(std::string_view line, AddressRange& range, bool& clean_candidate) {
    const auto addresses = next_field(line);
    const auto dash = addresses.find('-');
    if (dash == std::string_view::npos || !parse_hex(addresses.substr(0, dash), range.begin) ||
        !parse_hex(addresses.substr(dash + 1), range.end))
        return false;
    const auto permissions = next_field(line);
    next_field(line);  // offset
    next_field(line);  // device
    const auto inode = next_field(line);
    if (permissions.size() != 4 || inode.empty()) return false;
    clean_candidate = permissions[0] == 'r' && permissions[1] == '-' && permissions[3] == 'p' && inode != "0";
    return true;
}

std::string read_whole(const char* path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<AddressRange> clean_file_mappings(std::string_view smaps) {
    std::vector<AddressRange> ranges;
    AddressRange current;
    bool candidate = false;
    bool has_own_pages = false;
    const auto close_mapping = [&] {
        if (candidate && !has_own_pages && current.end > current.begin) ranges.push_back(current);
    };
    while (!smaps.empty()) {
        const auto newline = smaps.find('\n');
        const auto line = smaps.substr(0, newline);
        smaps.remove_prefix(newline == std::string_view::npos ? smaps.size() : newline + 1);
        AddressRange range;
        bool range_candidate = false;
        if (parse_mapping_header(line, range, range_candidate)) {
            close_mapping();
            current = range;
            candidate = range_candidate;
            has_own_pages = false;
        } else if (line.starts_with("Anonymous:")) {
            auto rest = line.substr(line.find(':') + 1);
            const auto kib = next_field(rest);
            // Unreadable counts as owned: a page we cannot read back is never dropped.
            has_own_pages = kib != "0";
        }
    }
    close_mapping();
    return ranges;
}

unsigned thread_count(std::string_view status) {
    const auto key = status.find("\nThreads:");
    if (key == std::string_view::npos) return 0;
    auto rest = status.substr(key + 9);
    rest = rest.substr(0, rest.find('\n'));
    const auto count = rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t")));
    unsigned value = 0;
    const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), value);
    return error == std::errc{} && end == count.data() + count.size() ? value : 0;
}

ReleasedMemory release_idle_memory() {
    ReleasedMemory released;
    if (thread_count(read_whole("/proc/self/status")) != 1) return released;
    released.done = true;
    malloc_trim(0);
    for (const auto& range : clean_file_mappings(read_whole("/proc/self/smaps"))) {
        if (madvise(reinterpret_cast<void*>(range.begin), range.end - range.begin, MADV_DONTNEED) == 0) {
            ++released.mappings;
            released.bytes += range.end - range.begin;
        }
    }
    return released;
}

}  // namespace heal
