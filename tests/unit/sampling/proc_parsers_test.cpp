#include "sampling/proc_parsers.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using heal::SampleError;

TEST_CASE("parse_proc_stat sums user..steal and leaves guest time out", "[sampling][parsers]") {
    const auto times = heal::parse_proc_stat(
        "cpu  1000 50 300 8000 100 20 30 5 40 7\ncpu0 1 2 3 4 5 6 7 8 9 10\n", "stat");
    CHECK(times.total == 1000 + 50 + 300 + 8000 + 100 + 20 + 30 + 5);
    CHECK(times.idle == 8000 + 100);
}

TEST_CASE("parse_proc_stat accepts the four fields of old kernels", "[sampling][parsers]") {
    const auto times = heal::parse_proc_stat("cpu 10 20 30 40\n", "stat");
    CHECK(times.total == 100);
    CHECK(times.idle == 40);
}

TEST_CASE("parse_proc_stat rejects malformed text, naming the file", "[sampling][parsers]") {
    CHECK_THROWS_AS(heal::parse_proc_stat("", "/proc/stat"), SampleError);
    CHECK_THROWS_WITH(heal::parse_proc_stat("", "/proc/stat"),
                      Contains("/proc/stat") && Contains("no aggregate \"cpu\" line"));
    CHECK_THROWS_WITH(heal::parse_proc_stat("cpu0 1 2 3 4\n", "/proc/stat"),
                      Contains("no aggregate"));
    CHECK_THROWS_WITH(heal::parse_proc_stat("cpu  12 abc 3 4\n", "/proc/stat"),
                      Contains("/proc/stat") && Contains("malformed field 2") && Contains("abc"));
    CHECK_THROWS_WITH(heal::parse_proc_stat("cpu  12 -3 3 4\n", "/proc/stat"),
                      Contains("malformed field 2"));
    CHECK_THROWS_WITH(heal::parse_proc_stat("cpu  99999999999999999999999 1 2 3\n", "f"),
                      Contains("malformed field 1"));
    CHECK_THROWS_WITH(heal::parse_proc_stat("cpu  1 2", "/proc/stat"),
                      Contains("has 2 fields, expected at least 4"));
}

TEST_CASE("cpu_percent_between is the busy share of elapsed jiffies", "[sampling][parsers]") {
    const heal::CpuTimes before{10000, 8000};
    CHECK(heal::cpu_percent_between(before, {10800, 8600}) == Approx(25.0));
    CHECK(heal::cpu_percent_between(before, {10800, 8000}) == Approx(100.0));
    CHECK(heal::cpu_percent_between(before, {10800, 8800}) == Approx(0.0));
    // No time passed, or counters reset: no figure rather than a wild one.
    CHECK(heal::cpu_percent_between(before, before) == 0.0);
    CHECK(heal::cpu_percent_between(before, {500, 100}) == 0.0);
    // iowait going backwards must not push the result outside [0, 100].
    CHECK(heal::cpu_percent_between(before, {10800, 7000}) == Approx(100.0));
}

TEST_CASE("parse_meminfo reads MemTotal and MemAvailable", "[sampling][parsers]") {
    const auto info = heal::parse_meminfo(
        "MemTotal:        8000000 kB\nMemFree:  1 kB\nMemAvailable:    6000000 kB\n"
        "HugePages_Total:       0\n",
        "meminfo");
    CHECK(info.total_kb == 8000000);
    CHECK(info.available_kb == 6000000);
    CHECK(heal::memory_percent(info) == Approx(25.0));
    CHECK(heal::memory_percent({100, 150}) == 0.0);
}

TEST_CASE("parse_meminfo rejects missing or malformed keys, naming the file",
          "[sampling][parsers]") {
    CHECK_THROWS_WITH(heal::parse_meminfo("", "/proc/meminfo"),
                      Contains("/proc/meminfo") && Contains("MemTotal is missing or malformed"));
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotal: 100 kB\n", "/proc/meminfo"),
                      Contains("MemAvailable is missing"));
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n", "m"),
                      Contains("MemTotal is 0"));
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotal: x kB\nMemAvailable: 1 kB\n", "m"),
                      Contains("MemTotal is missing or malformed"));
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotal: 10 MB\nMemAvailable: 1 kB\n", "m"),
                      Contains("MemTotal"));
    // A key must be a whole key, not a prefix of another.
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotalX: 10 kB\nMemAvailable: 1 kB\n", "m"),
                      Contains("MemTotal is missing"));
    CHECK_THROWS_WITH(heal::parse_meminfo("MemTotal: 10 kB\nMemAvailable:", "m"),
                      Contains("MemAvailable"));
}

TEST_CASE("parse_pressure reads avg10 and total of the some line", "[sampling][parsers]") {
    const auto pressure = heal::parse_pressure(
        "some avg10=22.90 avg60=5.72 avg300=1.64 total=7557152\n"
        "full avg10=1.00 avg60=0.00 avg300=0.00 total=99\n");
    REQUIRE(pressure);
    CHECK(pressure->avg10 == Approx(22.90));
    CHECK(pressure->total_us == 7557152);
    CHECK(pressure->full_avg10 == Approx(1.00));

    CHECK_FALSE(heal::parse_pressure(""));
    CHECK_FALSE(heal::parse_pressure("full avg10=1.00 avg60=0.00 avg300=0.00 total=99\n"));
    CHECK_FALSE(heal::parse_pressure("some avg10=abc avg60=0 avg300=0 total=1\n"));
    CHECK_FALSE(heal::parse_pressure("some avg10=-1.0 avg60=0 avg300=0 total=1\n"));
    CHECK_FALSE(heal::parse_pressure("some avg10=nan avg60=0 avg300=0 total=1\n"));
    CHECK_FALSE(heal::parse_pressure("some avg10=1.0 avg60=0 avg300=0\n"));
    CHECK_FALSE(heal::parse_pressure("some avg10=1.0 avg60=0 avg300=0 total="));
}

TEST_CASE("parse_pressure leaves full absent when the full line is missing or malformed",
          "[sampling][parsers]") {
    const auto some_only = heal::parse_pressure("some avg10=3.00 avg60=0 avg300=0 total=5\n");
    REQUIRE(some_only);
    CHECK(some_only->avg10 == Approx(3.0));
    CHECK_FALSE(some_only->full_avg10);

    const auto broken_full = heal::parse_pressure(
        "some avg10=3.00 avg60=0 avg300=0 total=5\nfull avg10=x avg60=0 avg300=0 total=1\n");
    REQUIRE(broken_full);
    CHECK(broken_full->total_us == 5);
    CHECK_FALSE(broken_full->full_avg10);
}

TEST_CASE("parse_cpu_max turns quota and period into % of one CPU", "[sampling][parsers]") {
    CHECK(heal::parse_cpu_max("50000 100000\n")->percent == 50.0);
    CHECK(heal::parse_cpu_max("250000 100000")->percent == 250.0);
    CHECK(heal::parse_cpu_max("1000 10000\n")->percent == 10.0);
    const auto unlimited = heal::parse_cpu_max("max 100000\n");
    REQUIRE(unlimited);
    CHECK_FALSE(unlimited->percent);

    CHECK_FALSE(heal::parse_cpu_max(""));
    CHECK_FALSE(heal::parse_cpu_max("50000"));
    CHECK_FALSE(heal::parse_cpu_max("50000 0"));
    CHECK_FALSE(heal::parse_cpu_max("-5 100000"));
    CHECK_FALSE(heal::parse_cpu_max("50000 100000 7"));
    CHECK_FALSE(heal::parse_cpu_max("max"));
}

TEST_CASE("parse_cpu_stat_usage_usec finds usage_usec", "[sampling][parsers]") {
    CHECK(heal::parse_cpu_stat_usage_usec("usage_usec 55940000\nuser_usec 27096000\n") ==
          55940000u);
    CHECK(heal::parse_cpu_stat_usage_usec("user_usec 1\nusage_usec 7") == 7u);
    CHECK_FALSE(heal::parse_cpu_stat_usage_usec(""));
    CHECK_FALSE(heal::parse_cpu_stat_usage_usec("usage_usec_total 5\n"));
    CHECK_FALSE(heal::parse_cpu_stat_usage_usec("usage_usec 5x\n"));
    CHECK_FALSE(heal::parse_cpu_stat_usage_usec("usage_usec \n"));
}

TEST_CASE("parse_single_u64 takes exactly one number", "[sampling][parsers]") {
    CHECK(heal::parse_single_u64("52428800\n") == 52428800u);
    CHECK(heal::parse_single_u64("  7  ") == 7u);
    CHECK_FALSE(heal::parse_single_u64(""));
    CHECK_FALSE(heal::parse_single_u64("\n"));
    CHECK_FALSE(heal::parse_single_u64("12 34\n"));
    CHECK_FALSE(heal::parse_single_u64("-1\n"));
    CHECK_FALSE(heal::parse_single_u64("18446744073709551616\n"));
}

TEST_CASE("parse_memory_limit knows both spellings of unlimited", "[sampling][parsers]") {
    const auto v2_unlimited = heal::parse_memory_limit("max\n");
    REQUIRE(v2_unlimited);
    CHECK_FALSE(v2_unlimited->bytes);

    const auto v1_unlimited = heal::parse_memory_limit("9223372036854771712\n");
    REQUIRE(v1_unlimited);
    CHECK_FALSE(v1_unlimited->bytes);

    const auto limited = heal::parse_memory_limit("268435456\n");
    REQUIRE(limited);
    CHECK(limited->bytes == 268435456u);

    CHECK_FALSE(heal::parse_memory_limit(""));
    CHECK_FALSE(heal::parse_memory_limit("maximum\n"));
}

TEST_CASE("parse_status_vmrss_bytes reads VmRSS in bytes", "[sampling][parsers]") {
    CHECK(heal::parse_status_vmrss_bytes("Name:\tx\nVmHWM:\t 2000 kB\nVmRSS:\t    1756 kB\n") ==
          1756u * 1024);
    CHECK_FALSE(heal::parse_status_vmrss_bytes("Name:\tkthreadd\nThreads:\t1\n"));
    CHECK_FALSE(heal::parse_status_vmrss_bytes("VmRSS:\t"));
    CHECK_FALSE(heal::parse_status_vmrss_bytes("VmRSS:\t 18014398509481984 kB\n"));
}

TEST_CASE("is_pid accepts only decimal PIDs", "[sampling][parsers]") {
    CHECK(heal::is_pid("1"));
    CHECK(heal::is_pid("4194304"));
    CHECK_FALSE(heal::is_pid(""));
    CHECK_FALSE(heal::is_pid("../1"));
    CHECK_FALSE(heal::is_pid("12 "));
    CHECK_FALSE(heal::is_pid("123456789012"));
}

TEST_CASE("next_line splits on newlines and tolerates a missing last one",
          "[sampling][parsers]") {
    std::string_view rest = "a\n\nb";
    CHECK(heal::next_line(rest) == "a");
    CHECK(heal::next_line(rest) == "");
    CHECK(heal::next_line(rest) == "b");
    CHECK(rest.empty());
}

TEST_CASE("parse_stat_state reads the state after the command", "[sampling][parsers]") {
    CHECK(heal::parse_stat_state("42 (bash) S 1 42 42 0 -1") == 'S');
    CHECK(heal::parse_stat_state("43 (a (b) R c) D 1 43") == 'D');
    CHECK(heal::parse_stat_state("44 (spin) R 1") == 'R');
    CHECK_FALSE(heal::parse_stat_state("44 spin R 1"));
    CHECK_FALSE(heal::parse_stat_state("44 (spin)"));
    CHECK_FALSE(heal::parse_stat_state("44 (spin) r 1"));
    CHECK_FALSE(heal::parse_stat_state(""));
}

TEST_CASE("memory.stat: one field by its exact name", "[sampling][parsers]") {
    const std::string_view stat = "anon 10\ntotal_inactive_file 30\ninactive_file 20\ninactive_file_x 5\n";
    CHECK(heal::parse_memory_stat_field(stat, "inactive_file") == 20u);
    CHECK(heal::parse_memory_stat_field(stat, "total_inactive_file") == 30u);
    CHECK_FALSE(heal::parse_memory_stat_field(stat, "active_file"));
    CHECK_FALSE(heal::parse_memory_stat_field("inactive_file -3\n", "inactive_file"));
}
