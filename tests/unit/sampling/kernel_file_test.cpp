#include <cerrno>
#include <string>

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

TEST_CASE("KernelFile re-reads a real /proc file larger than its first buffer", "[sampling][file][real]") {
    // /proc/self/maps of a test binary is some kilobytes; read twice through
    // one descriptor, both reads must see a whole file ending in a newline.
    KernelFile maps("/proc/self/maps");
    std::string first;
    std::string second;
    REQUIRE(maps.read(first) == 0);
    REQUIRE(maps.read(second) == 0);
    CHECK(!first.empty());
    CHECK(first.back() == '\n');
    CHECK(second.back() == '\n');
    CHECK(second.find("[stack]") != std::string::npos);
}
