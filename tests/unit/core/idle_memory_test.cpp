#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>

#include "core/idle_memory.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace heal;

namespace {

// One mapping of a smaps text: its header line and the lines the parser reads.
std::string mapping(const std::string& header, int anonymous_kib) {
    return header + "\nSize:                 64 kB\nRss:                  64 kB\nAnonymous:      " +
           std::to_string(anonymous_kib) + " kB\nVmFlags: rd mr mw me\n";
}

std::string read_text(const char* path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The Rss of the mapping that starts at `address`, from /proc/self/smaps.
long resident_kib(const void* address) {
    const std::string smaps = read_text("/proc/self/smaps");
    char start[32];
    std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(address));
    const auto header = smaps.find(std::string("\n") + start);
    REQUIRE(header != std::string::npos);
    const auto rss = smaps.find("\nRss:", header);
    REQUIRE(rss != std::string::npos);
    return std::stol(smaps.substr(rss + 5));
}

struct Mapping {
    char* data = nullptr;
    std::size_t size = 0;
    ~Mapping() {
        if (data) munmap(data, size);
    }
};

// `pages` pages of `fill` in a file, mapped private and read-only.
void map_file(const heal::test::TempDir& dir, const char* name, char fill, std::size_t pages, Mapping& out) {
    out.size = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const auto path = dir.write(name, std::string(out.size, fill));
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    void* mapped = mmap(nullptr, out.size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    REQUIRE(mapped != MAP_FAILED);
    out.data = static_cast<char*>(mapped);
}

long touch(const Mapping& m) {
    long sum = 0;
    for (std::size_t i = 0; i < m.size; i += 512) sum += m.data[i];
    return sum;
}

}  // namespace

TEST_CASE("only private, read-only file mappings with no page of their own are released", "[core][memory]") {
    const std::string smaps =
        mapping("55d0c0a00000-55d0c0a11000 r--p 00000000 08:01 393      /usr/sbin/healerd", 0) +
        mapping("55d0c0a11000-55d0c0b5d000 r-xp 00011000 08:01 393      /usr/sbin/healerd", 0) +
        // RELRO: read-only now, but its relocated pages are the process's own.
        mapping("55d0c0cbc000-55d0c0cc0000 r--p 001a7000 08:01 393      /usr/sbin/healerd", 16) +
        mapping("55d0c0cc0000-55d0c0cc2000 rw-p 001ab000 08:01 393      /usr/sbin/healerd", 0) +
        mapping("55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0        [heap]", 0) +
        mapping("7f0000000000-7f0000010000 r--s 00000000 08:01 77       /var/lib/healerd/healerd.db-shm", 0) +
        mapping("7f0000010000-7f0000020000 r--p 00000000 00:00 0 ", 0) +
        mapping("7f1000000000-7f1000100000 r-xp 00028000 08:01 1200     /usr/lib/x86_64-linux-gnu/libc.so.6", 0) +
        mapping("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0        [vdso]", 0);
    const auto ranges = clean_file_mappings(smaps);
    REQUIRE(ranges.size() == 3);
    CHECK(ranges[0].begin == 0x55d0c0a00000);
    CHECK(ranges[0].end == 0x55d0c0a11000);
    CHECK(ranges[1].begin == 0x55d0c0a11000);
    CHECK(ranges[2].begin == 0x7f1000000000);
    CHECK(ranges[2].end == 0x7f1000100000);
}

TEST_CASE("a mapping whose page count cannot be read is kept", "[core][memory]") {
    CHECK(clean_file_mappings("7f00-7f10 r-xp 00000000 08:01 5 /lib/x.so\nAnonymous:  kB\n").empty());
    CHECK(clean_file_mappings("7f00-7f10 r-xp 00000000 08:01 5 /lib/x.so\nAnonymous:  4 kB\n").empty());
    CHECK(clean_file_mappings("not a header\nAnonymous: 0 kB\n").empty());
    CHECK(clean_file_mappings("").empty());
    CHECK(clean_file_mappings("7f00-7f10 r-xp 00000000 08:01 5 /lib/x.so\nAnonymous:  0 kB\n").size() == 1);
}

TEST_CASE("the thread count comes from the Threads line", "[core][memory]") {
    CHECK(thread_count("Name:\thealerd\nThreads:\t1\nSigQ:\t0/1\n") == 1);
    CHECK(thread_count("Name:\thealerd\nThreads:\t12\n") == 12);
    CHECK(thread_count("Name:\thealerd\n") == 0);
    CHECK(thread_count("Name:\thealerd\nThreads:\tmany\n") == 0);
}

TEST_CASE("released file pages read back the same, and pages of the process's own are kept", "[core][memory]") {
    if (thread_count(read_text("/proc/self/status")) != 1) HEAL_SKIP("this test process runs more than one thread");
    const heal::test::TempDir dir;
    Mapping clean;
    map_file(dir, "clean", 'a', 16, clean);
    const long clean_sum = touch(clean);
    REQUIRE(resident_kib(clean.data) > 0);

    // A private page written and then made read-only, as the loader does to
    // relocated data: dropping it would lose the write.
    Mapping own;
    map_file(dir, "own", 'b', 4, own);
    REQUIRE(mprotect(own.data, own.size, PROT_READ | PROT_WRITE) == 0);
    std::memcpy(own.data, "written", 7);
    REQUIRE(mprotect(own.data, own.size, PROT_READ) == 0);

    const ReleasedMemory released = release_idle_memory();
    CHECK(released.done);
    CHECK(released.mappings > 0);
    CHECK(resident_kib(clean.data) == 0);
    CHECK(touch(clean) == clean_sum);
    CHECK(std::memcmp(own.data, "written", 7) == 0);
    CHECK(own.data[7] == 'b');
}

TEST_CASE("nothing is released while another thread runs", "[core][memory]") {
    std::mutex gate;
    std::unique_lock held(gate);
    std::thread other([&] { const std::lock_guard wait(gate); });
    const ReleasedMemory released = release_idle_memory();
    held.unlock();
    other.join();
    CHECK_FALSE(released.done);
    CHECK(released.mappings == 0);
}
