#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sampling/file_reader.hpp"
#include "support/temp_dir.hpp"

using heal::KernelFile;
using heal::test::TempDir;

TEST_CASE("KernelFile reads fresh contents from the file it keeps open", "[sampling][file]") {
    TempDir dir;
    const auto path = dir.write("cpu.stat", "usage_usec 100\n");
    KernelFile file(path.string());
    std::string buffer;
    REQUIRE(file.read(buffer) == 0);
    CHECK(buffer == "usage_usec 100\n");

    // Rewritten in place, as the kernel does: shorter contents leave no tail.
    dir.write("cpu.stat", "usage_usec 7\n");
    REQUIRE(file.read(buffer) == 0);
    CHECK(buffer == "usage_usec 7\n");

    SECTION("a copy reads the same file") {
        KernelFile copy = file;
        REQUIRE(copy.read(buffer) == 0);
        CHECK(buffer == "usage_usec 7\n");
    }
}

TEST_CASE("KernelFile reports a missing file, and looks for it again every tenth read", "[sampling][file]") {
    TempDir dir;
    KernelFile file((dir / "memory.pressure").string());
    std::string buffer = "stale";
    CHECK(file.read(buffer) == ENOENT);
    CHECK(buffer.empty());
    dir.write("memory.pressure", "some avg10=1.00 avg60=0.00 avg300=0.00 total=5\n");
    // Not looked for again until the tenth read: a missing file costs no system call a tick.
    for (int read = 2; read < KernelFile::kMissingRetryReads + 1; ++read) CHECK(file.read(buffer) == ENOENT);
    REQUIRE(file.read(buffer) == 0);
    CHECK(buffer.rfind("some avg10=1.00", 0) == 0);

    SECTION("a copy looks for it at once") {
        KernelFile missing((dir / "cpu.max").string());
        CHECK(missing.read(buffer) == ENOENT);
        dir.write("cpu.max", "max 100000\n");
        KernelFile copy = missing;
        CHECK(copy.read(buffer) == 0);
    }
}

TEST_CASE("KernelFile re-reads a list of records that comes a page at a time, to its end", "[sampling][file][real]") {
    // /proc/self/maps is a list like cgroup.procs: the kernel hands it out a
    // page of records per read. 300 mappings that cannot merge make it some
    // 25 KiB; read twice through one descriptor, both reads must reach the
    // last mapping, the stack.
    std::vector<void*> mappings;
    const long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 300; ++i) {
        void* mapped = mmap(nullptr, static_cast<std::size_t>(page), i % 2 ? PROT_READ : PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(mapped != MAP_FAILED);
        mappings.push_back(mapped);
    }
    KernelFile maps("/proc/self/maps", heal::Contents::streamed);
    std::string first;
    std::string second;
    REQUIRE(maps.read(first) == 0);
    REQUIRE(maps.read(second) == 0);
    std::string once;
    REQUIRE(heal::read_file("/proc/self/maps", once) == 0);
    for (void* mapped : mappings) munmap(mapped, static_cast<std::size_t>(page));
    for (const std::string* whole : {&first, &second, &once}) {
        CHECK(whole->size() > 16384);
        CHECK(whole->back() == '\n');
        CHECK(whole->find("[stack]") != std::string::npos);
    }
}

TEST_CASE("a file made whole at each read is read whole in one read, however long", "[sampling][file]") {
    TempDir dir;
    std::string contents;
    for (int i = 0; contents.size() < 20000; ++i) contents += "key" + std::to_string(i) + " " + std::to_string(i) + "\n";
    const auto path = dir.write("memory.stat", contents);
    KernelFile file(path.string(), heal::Contents::whole_at_once);
    std::string buffer;
    REQUIRE(file.read(buffer) == 0);
    CHECK(buffer == contents);
    REQUIRE(heal::read_file(path.string(), buffer, heal::Contents::whole_at_once) == 0);
    CHECK(buffer == contents);
}
