#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>

#include "sampling/cgroup_layout.hpp"
#include "sampling/proc_sampler.hpp"
#include "sampling/system_sampler.hpp"
#include "sampling/unit_sampler.hpp"
#include "temp_tree.hpp"
#include "support/skip.hpp"

using Catch::Matchers::Contains;
using heal::test::fixture;
using heal::test::TempTree;
using namespace std::chrono_literals;

namespace {

// A steady clock the test moves by hand.
struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::seconds{1000}};
    heal::SteadyClock source() {
        return [this] { return now; };
    }
};

const heal::UnitSample& unit_named(const heal::Sample& sample, const std::string& name) {
    for (const auto& unit : sample.units) {
        if (unit.unit == name) return unit;
    }
    throw std::logic_error("no unit " + name + " in the sample");
}

}  // namespace

TEST_CASE("CgroupLayout tells the three layouts apart", "[sampling][layout]") {
    const auto v2 = heal::CgroupLayout::detect(fixture("v2"));
    CHECK(v2.kind == heal::CgroupLayout::Kind::unified);
    CHECK(v2.v2_root == (fixture("v2") / "sys/fs/cgroup").string());
    CHECK(v2.cpuacct_root.empty());
    CHECK(v2.memory_root.empty());

    const auto hybrid = heal::CgroupLayout::detect(fixture("hybrid"));
    CHECK(hybrid.kind == heal::CgroupLayout::Kind::hybrid);
    CHECK(hybrid.v2_root == (fixture("hybrid") / "sys/fs/cgroup/unified").string());
    CHECK(hybrid.cpuacct_root == (fixture("hybrid") / "sys/fs/cgroup/cpuacct").string());
    CHECK(hybrid.memory_root == (fixture("hybrid") / "sys/fs/cgroup/memory").string());

    TempTree legacy;
    legacy.write("sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", "1\n");
    const auto v1 = heal::CgroupLayout::detect(legacy.root());
    CHECK(v1.kind == heal::CgroupLayout::Kind::legacy);
    CHECK(v1.cpuacct_root == (legacy.root() / "sys/fs/cgroup/cpu,cpuacct").string());
    CHECK(v1.v2_root.empty());

    TempTree empty;
    CHECK(heal::CgroupLayout::detect(empty.root()).kind == heal::CgroupLayout::Kind::none);
    CHECK(heal::to_string(heal::CgroupLayout::Kind::hybrid) == "hybrid");
}

TEST_CASE("relative_cgroup_path defaults to system.slice and refuses to escape",
          "[sampling][unit]") {
    CHECK(heal::relative_cgroup_path({"nginx.service", {}}) == "system.slice/nginx.service");
    CHECK(heal::relative_cgroup_path({"job.scope", "/batch.slice//job.scope/"}) ==
          "batch.slice/job.scope");
    CHECK(heal::relative_cgroup_path({"-.slice", "/"}) == "");
    CHECK_THROWS_AS(heal::relative_cgroup_path({"", {}}), std::invalid_argument);
    CHECK_THROWS_WITH(heal::relative_cgroup_path({"../x.service", {}}), Contains("contains '/'"));
    CHECK_THROWS_WITH(heal::relative_cgroup_path({"x.service", "/system.slice/../../etc"}),
                      Contains("\"..\" component"));
    CHECK_THROWS_WITH(heal::relative_cgroup_path({"x.service", "./a"}), Contains("\".\""));
    CHECK_THROWS_WITH(heal::relative_cgroup_path({"x.service", std::string{"a\0b", 3}}),
                      Contains("NUL"));
}

TEST_CASE("pure cgroup v2: system and units from the fixture", "[sampling][v2]") {
    heal::ProcSampler sampler({{"nginx.service", {}},
                               {"worker.service", {}},
                               {"job.scope", "/batch.slice/job.scope"}},
                              fixture("v2"));
    const auto sample = sampler.sample();

    CHECK(sample.system.cpu_percent == 0.0);  // first tick has no delta
    CHECK(sample.system.memory_percent == Approx(25.0));
    REQUIRE(sample.system.cpu_pressure);
    CHECK(sample.system.cpu_pressure->avg10 == Approx(1.50));
    CHECK(sample.system.cpu_pressure->total_us == 111111);
    REQUIRE(sample.system.memory_pressure);
    CHECK(sample.system.memory_pressure->avg10 == Approx(2.25));
    REQUIRE(sample.system.io_pressure);
    CHECK(sample.system.io_pressure->total_us == 333333);

    REQUIRE(sample.units.size() == 3);
    const auto& nginx = sample.units[0];
    CHECK(nginx.unit == "nginx.service");
    CHECK(nginx.present);
    CHECK(nginx.cpu_percent == 0.0);
    CHECK(nginx.memory_bytes == 52428800);
    CHECK(nginx.memory_max_bytes == 268435456u);
    REQUIRE(nginx.memory_pressure);
    CHECK(nginx.memory_pressure->avg10 == Approx(4.0));
    CHECK(nginx.memory_pressure->total_us == 444444);
    CHECK(nginx.memory_pressure->full_avg10 == 0.0);
    CHECK(nginx.memory_high_bytes == 201326592u);
    CHECK(nginx.cpu_limit_percent == 150.0);  // "150000 100000": CPUQuota=150%
    REQUIRE(nginx.cpu_pressure);
    CHECK(nginx.cpu_pressure->avg10 == Approx(12.5));
    CHECK(nginx.cpu_pressure->full_avg10 == Approx(6.25));
    CHECK(nginx.cpu_pressure->total_us == 555555);
    REQUIRE(nginx.io_pressure);
    CHECK(nginx.io_pressure->avg10 == Approx(0.75));
    CHECK(nginx.io_pressure->full_avg10 == Approx(0.5));

    const auto& worker = sample.units[1];
    CHECK(worker.present);
    CHECK(worker.memory_bytes == 1048576);
    CHECK_FALSE(worker.memory_max_bytes);  // "max"
    CHECK_FALSE(worker.memory_high_bytes);  // "max"
    CHECK_FALSE(worker.cpu_limit_percent);  // "max 100000"
    CHECK_FALSE(worker.cpu_pressure);       // no file

    const auto& job = sample.units[2];
    CHECK(job.unit == "job.scope");
    CHECK(job.present);
    CHECK(job.memory_bytes == 4096);
}

TEST_CASE("hybrid: counters from the v1 controllers, no PSI", "[sampling][hybrid]") {
    heal::ProcSampler sampler({{"app.service", {}}, {"db.service", {}}}, fixture("hybrid"));
    CHECK(sampler.layout().kind == heal::CgroupLayout::Kind::hybrid);
    const auto sample = sampler.sample();

    CHECK(sample.system.memory_percent == Approx(25.0));
    CHECK_FALSE(sample.system.cpu_pressure);
    CHECK_FALSE(sample.system.memory_pressure);
    CHECK_FALSE(sample.system.io_pressure);

    const auto& app = unit_named(sample, "app.service");
    CHECK(app.present);
    CHECK(app.memory_bytes == 104857600);
    CHECK_FALSE(app.memory_max_bytes);  // v1's page-rounded LONG_MAX
    CHECK_FALSE(app.memory_pressure);
    CHECK_FALSE(app.cpu_pressure);
    CHECK_FALSE(app.io_pressure);
    CHECK_FALSE(app.memory_high_bytes);
    CHECK_FALSE(app.cpu_limit_percent);

    const auto& db = unit_named(sample, "db.service");
    CHECK(db.memory_bytes == 209715200);
    CHECK(db.memory_max_bytes == 536870912u);
}

TEST_CASE("hybrid: unit CPU % from cpuacct.usage nanoseconds", "[sampling][hybrid][cpu]") {
    TempTree tree{"hybrid"};
    FakeClock clock;
    heal::ProcSampler sampler({{"app.service", {}}}, tree.root(), clock.source());
    sampler.sample();

    tree.write("sys/fs/cgroup/cpuacct/system.slice/app.service/cpuacct.usage", "2900000000\n");
    clock.now += 4s;
    // 0.4 s of CPU over 4 s of wall time.
    CHECK(sampler.sample().units[0].cpu_percent == Approx(10.0));
}

TEST_CASE("container: no memory.current and no v1 memory dir sums VmRSS of the cgroup tree",
          "[sampling][container]") {
    heal::ProcSampler sampler({{"web.service", {}}}, fixture("container"));
    const auto sample = sampler.sample();
    const auto& web = sample.units[0];
    CHECK(web.present);
    // PIDs 100, 101 and 102 (in the child cgroup "worker"); 999 has exited
    // and 103 is a zombie without VmRSS.
    CHECK(web.memory_bytes == (10240u + 2048u + 1024u) * 1024u);
    CHECK_FALSE(web.memory_max_bytes);
    // Threads 101 and 102 (in "worker") are runnable; 1011's command holds
    // " R " but its state is the field after the last ')': D; 100 sleeps
    // and 999 has exited.
    CHECK(web.runnable_threads == 2);
    REQUIRE(web.memory_pressure);
    CHECK(web.memory_pressure->avg10 == Approx(3.5));
    REQUIRE(web.cpu_pressure);
    CHECK(web.cpu_pressure->total_us == 10);
    REQUIRE(web.io_pressure);
    CHECK(web.io_pressure->total_us == 30);
    REQUIRE(sample.system.memory_pressure);
    CHECK(sample.system.memory_pressure->total_us == 2000);
}

TEST_CASE("a unit's threads are read only when it used CPU since the last sample", "[sampling][container]") {
    TempTree tree{"container"};
    FakeClock clock;
    heal::ProcSampler sampler({{"web.service", {}}}, tree.root(), clock.source());
    CHECK(sampler.sample().units[0].runnable_threads == 2);  // nothing to compare with yet: read
    const std::string cpu_stat = "sys/fs/cgroup/unified/system.slice/web.service/cpu.stat";
    clock.now += 1s;
    // 9 ms of CPU in a second: below 1 %, no thread was running.
    tree.write(cpu_stat, "usage_usec 309000\n");
    CHECK(sampler.sample().units[0].runnable_threads == 0);
    clock.now += 1s;
    tree.write(cpu_stat, "usage_usec 320000\n");  // 11 ms: read
    CHECK(sampler.sample().units[0].runnable_threads == 2);
    clock.now += 1s;
    tree.write(cpu_stat, "usage_usec 100\n");  // a new cgroup's counter: not measured, read
    CHECK(sampler.sample().units[0].runnable_threads == 2);
}

TEST_CASE("v2: a unit's child cgroups are walked only when cgroup.stat counts some", "[sampling][container]") {
    TempTree tree{"container"};
    const std::string stat = "sys/fs/cgroup/unified/system.slice/web.service/cgroup.stat";
    SECTION("none: only the unit's own cgroup is read") {
        tree.write(stat, "nr_descendants 0\nnr_dying_descendants 0\n");
        heal::ProcSampler sampler({{"web.service", {}}}, tree.root());
        const auto web = sampler.sample().units[0];
        // PIDs 100 and 101; 102 in "worker" is not looked at.
        CHECK(web.memory_bytes == (10240u + 2048u) * 1024u);
        CHECK(web.runnable_threads == 1);
    }
    SECTION("some: the tree is walked") {
        tree.write(stat, "nr_descendants 1\nnr_dying_descendants 0\n");
        heal::ProcSampler sampler({{"web.service", {}}}, tree.root());
        const auto web = sampler.sample().units[0];
        CHECK(web.memory_bytes == (10240u + 2048u + 1024u) * 1024u);
        CHECK(web.runnable_threads == 2);
    }
}

TEST_CASE("unit files fall back one by one", "[sampling][fallback]") {
    TempTree tree{"container"};
    const std::string v1_memory = "sys/fs/cgroup/memory/system.slice/web.service/";
    const std::string v2_unit = "sys/fs/cgroup/unified/system.slice/web.service/";
    heal::ProcSampler sampler({{"web.service", {}}}, tree.root());

    SECTION("a v1 memory dir beats the VmRSS sum") {
        tree.write(v1_memory + "memory.usage_in_bytes", "777\n");
        tree.write(v1_memory + "memory.limit_in_bytes", "4096\n");
        const auto web = sampler.sample().units[0];
        CHECK(web.memory_bytes == 777);
        CHECK(web.memory_max_bytes == 4096u);
    }
    SECTION("v2 memory.current and memory.max beat v1") {
        tree.write(v1_memory + "memory.usage_in_bytes", "777\n");
        tree.write(v1_memory + "memory.limit_in_bytes", "4096\n");
        tree.write(v2_unit + "memory.current", "555\n");
        tree.write(v2_unit + "memory.max", "8192\n");
        const auto web = sampler.sample().units[0];
        CHECK(web.memory_bytes == 555);
        CHECK(web.memory_max_bytes == 8192u);
    }
    SECTION("the working set: the inactive page cache of memory.stat is not counted") {
        tree.write(v1_memory + "memory.usage_in_bytes", "1000\n");
        tree.write(v1_memory + "memory.stat", "cache 900\ntotal_inactive_file 600\ninactive_file 1\n");
        CHECK(sampler.sample().units[0].memory_bytes == 400);
        tree.write(v2_unit + "memory.current", "5000\n");
        tree.write(v2_unit + "memory.stat", "anon 1000\nfile 4000\nactive_file 500\ninactive_file 3500\n");
        // A file that was missing is looked for again within KernelFile::kMissingRetryReads samples.
        for (int i = 1; i < heal::KernelFile::kMissingRetryReads; ++i) sampler.sample();
        CHECK(sampler.sample().units[0].memory_bytes == 1500);
        tree.write(v2_unit + "memory.stat", "anon 1000\ninactive_file 9000\n");  // raced: never below 0
        CHECK(sampler.sample().units[0].memory_bytes == 0);
        tree.write(v2_unit + "memory.stat", "inactive_file lots\n");  // unreadable: the usage as it is
        CHECK(sampler.sample().units[0].memory_bytes == 5000);
    }
    SECTION("a malformed v2 file falls through to the next source") {
        tree.write(v1_memory + "memory.usage_in_bytes", "777\n");
        tree.write(v2_unit + "memory.current", "lots\n");
        tree.write(v2_unit + "memory.max", "");
        tree.write(v2_unit + "memory.pressure", "some avg10=oops\n");
        tree.write(v2_unit + "memory.high", "high\n");
        tree.write(v2_unit + "cpu.max", "50000 0\n");
        const auto web = sampler.sample().units[0];
        CHECK(web.present);
        CHECK(web.memory_bytes == 777);
        CHECK_FALSE(web.memory_max_bytes);
        CHECK_FALSE(web.memory_pressure);
        CHECK_FALSE(web.memory_high_bytes);
        CHECK_FALSE(web.cpu_limit_percent);
    }
    SECTION("malformed cgroup.procs lines and status files are skipped") {
        tree.write(v2_unit + "cgroup.procs", "100\n../../etc\n\nxyz\n101");
        tree.write("proc/101/status", "VmRSS:\tgarbage kB\n");
        tree.remove(v2_unit + "worker");
        CHECK(sampler.sample().units[0].memory_bytes == 10240u * 1024u);
    }
}

TEST_CASE("unit CPU % from two samples is exact", "[sampling][cpu]") {
    TempTree tree{"v2"};
    FakeClock clock;
    const std::string nginx = "sys/fs/cgroup/system.slice/nginx.service/";
    heal::ProcSampler sampler({{"nginx.service", {}}}, tree.root(), clock.source());
    CHECK(sampler.sample().units[0].cpu_percent == 0.0);

    // 1.5 s of CPU over 2 s of wall time.
    tree.write(nginx + "cpu.stat", "usage_usec 6500000\nuser_usec 4000000\n");
    clock.now += 2s;
    CHECK(sampler.sample().units[0].cpu_percent == Approx(75.0));

    SECTION("more than one CPU's worth exceeds 100 %, like top") {
        tree.write(nginx + "cpu.stat", "usage_usec 8500000\n");
        clock.now += 1s;
        CHECK(sampler.sample().units[0].cpu_percent == Approx(200.0));
    }
    SECTION("a restarted unit's counter starts over: no figure, then deltas again") {
        tree.write(nginx + "cpu.stat", "usage_usec 100\n");
        clock.now += 1s;
        CHECK(sampler.sample().units[0].cpu_percent == 0.0);
        tree.write(nginx + "cpu.stat", "usage_usec 250100\n");
        clock.now += 1s;
        CHECK(sampler.sample().units[0].cpu_percent == Approx(25.0));
    }
    SECTION("no time passed gives no figure") {
        tree.write(nginx + "cpu.stat", "usage_usec 9000000\n");
        CHECK(sampler.sample().units[0].cpu_percent == 0.0);
    }
    SECTION("an unreadable counter gives no figure and no baseline") {
        tree.write(nginx + "cpu.stat", "usage_usec broken\n");
        clock.now += 1s;
        const auto broken = sampler.sample().units[0];
        CHECK(broken.present);
        CHECK(broken.cpu_percent == 0.0);
        tree.write(nginx + "cpu.stat", "usage_usec 7000000\n");
        clock.now += 1s;
        CHECK(sampler.sample().units[0].cpu_percent == 0.0);
    }
}

TEST_CASE("a unit restarted between ticks is read from its new cgroup", "[sampling][restart]") {
    TempTree tree{"v2"};
    FakeClock clock;
    const std::string nginx = "sys/fs/cgroup/system.slice/nginx.service";
    heal::ProcSampler sampler({{"nginx.service", {}}}, tree.root(), clock.source());
    const auto before = sampler.sample().units[0];
    REQUIRE(before.present);

    // systemd removes the cgroup and creates a new one: the files the
    // sampler kept open belong to the old directory.
    tree.remove(nginx);
    std::filesystem::create_directories(tree.root() / nginx);
    tree.write(nginx + "/cpu.stat", "usage_usec 10\n");
    tree.write(nginx + "/memory.current", "12345\n");
    tree.write(nginx + "/memory.max", "max\n");
    clock.now += 1s;
    const auto after = sampler.sample().units[0];
    CHECK(after.present);
    CHECK(after.memory_bytes == 12345);
    CHECK(after.memory_max_bytes == std::nullopt);
    CHECK(after.cpu_percent == 0.0);  // a new counter: no delta yet
}

TEST_CASE("system CPU % from two samples is exact, guest time counted once",
          "[sampling][cpu]") {
    TempTree tree{"v2"};
    heal::SystemSampler sampler{tree.root()};
    CHECK(sampler.sample().cpu_percent == 0.0);

    // user +150 (of which guest +100), system +50, idle +600: 200 busy of 800.
    tree.write("proc/stat", "cpu  1150 50 350 8600 100 20 30 0 140 0\n");
    CHECK(sampler.sample().cpu_percent == Approx(25.0));

    tree.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 100 kB\n");
    CHECK(sampler.sample().memory_percent == Approx(90.0));
}

TEST_CASE("a unit without a cgroup is reported stopped", "[sampling][missing]") {
    TempTree tree{"v2"};
    FakeClock clock;
    heal::ProcSampler sampler({{"ghost.service", {}}, {"nginx.service", {}}}, tree.root(),
                              clock.source());
    auto sample = sampler.sample();
    const auto& ghost = unit_named(sample, "ghost.service");
    CHECK_FALSE(ghost.present);
    CHECK(ghost.memory_bytes == 0);
    CHECK(unit_named(sample, "nginx.service").present);

    SECTION("and one that stops and starts again has no CPU figure on its first tick back") {
        const std::string nginx = "sys/fs/cgroup/system.slice/nginx.service";
        tree.remove(nginx);
        clock.now += 1s;
        CHECK_FALSE(sampler.sample().units[1].present);

        tree.write(nginx + "/cpu.stat", "usage_usec 9000000\n");
        tree.write(nginx + "/memory.current", "10\n");
        clock.now += 1s;
        const auto back = sampler.sample().units[1];
        CHECK(back.present);
        CHECK(back.cpu_percent == 0.0);
        CHECK(back.memory_bytes == 10);
    }
}

TEST_CASE("watch keeps the CPU baseline of units still watched", "[sampling][watch]") {
    TempTree tree{"v2"};
    FakeClock clock;
    heal::ProcSampler sampler({{"nginx.service", {}}}, tree.root(), clock.source());
    sampler.sample();

    sampler.watch({{"worker.service", {}}, {"nginx.service", {}}});
    tree.write("sys/fs/cgroup/system.slice/nginx.service/cpu.stat", "usage_usec 6000000\n");
    clock.now += 1s;
    const auto sample = sampler.sample();
    REQUIRE(sample.units.size() == 2);
    CHECK(unit_named(sample, "nginx.service").cpu_percent == Approx(100.0));
    CHECK(unit_named(sample, "worker.service").cpu_percent == 0.0);

    CHECK_THROWS_AS(sampler.watch({{"nginx.service", {}}, {"bad.service", "/a/../b"}}),
                    std::invalid_argument);
    CHECK(sampler.sample().units.size() == 2);  // the old set stands
}

TEST_CASE("missing or malformed system files raise SampleError naming the file",
          "[sampling][errors]") {
    TempTree tree{"v2"};
    heal::ProcSampler sampler({}, tree.root());

    SECTION("missing /proc/stat") {
        tree.remove("proc/stat");
        CHECK_THROWS_WITH(sampler.sample(),
                          Contains("proc/stat") && Contains("cannot read") &&
                              Contains("No such file"));
    }
    SECTION("empty /proc/stat") {
        tree.write("proc/stat", "");
        CHECK_THROWS_WITH(sampler.sample(), Contains("proc/stat") && Contains("no aggregate"));
    }
    SECTION("truncated /proc/stat") {
        tree.write("proc/stat", "cpu  1 2");
        CHECK_THROWS_AS(sampler.sample(), heal::SampleError);
    }
    SECTION("missing /proc/meminfo") {
        tree.remove("proc/meminfo");
        CHECK_THROWS_WITH(sampler.sample(), Contains("proc/meminfo") && Contains("cannot read"));
    }
    SECTION("malformed /proc/meminfo") {
        tree.write("proc/meminfo", "MemTotal: lots\n");
        CHECK_THROWS_WITH(sampler.sample(), Contains("proc/meminfo") && Contains("MemTotal"));
    }
    SECTION("a directory where /proc/stat should be") {
        tree.remove("proc/stat");
        tree.write("proc/stat/x", "");
        CHECK_THROWS_WITH(sampler.sample(), Contains("proc/stat") && Contains("cannot read"));
    }
}

TEST_CASE("a failed tick does not disturb the next one's CPU delta", "[sampling][errors]") {
    TempTree tree{"v2"};
    heal::SystemSampler sampler{tree.root()};
    sampler.sample();
    tree.write("proc/meminfo", "garbage");
    tree.write("proc/stat", "cpu  1150 50 350 8600 100 20 30 0 140 0\n");
    CHECK_THROWS_AS(sampler.sample(), heal::SampleError);

    tree.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
    CHECK(sampler.sample().cpu_percent == Approx(25.0));
}

TEST_CASE("PSI files present but malformed are absent, not errors", "[sampling][psi]") {
    TempTree tree{"v2"};
    tree.write("proc/pressure/cpu", "");
    tree.write("proc/pressure/memory", "some avg10=x total=1\n");
    tree.remove("proc/pressure/io");
    const auto system = heal::SystemSampler{tree.root()}.sample();
    CHECK_FALSE(system.cpu_pressure);
    CHECK_FALSE(system.memory_pressure);
    CHECK_FALSE(system.io_pressure);
}

TEST_CASE("the real machine samples within sane ranges", "[sampling][real]") {
    if (!std::ifstream{"/proc/stat"}) {
        HEAL_SKIP("/proc/stat is unreadable here");
    }
    heal::ProcSampler sampler(
        std::vector<heal::UnitSpec>{{"-.slice", "/"}, {"healerd-test-absent.service", {}}});
    sampler.sample();
    std::this_thread::sleep_for(50ms);
    const auto sample = sampler.sample();

    CHECK(sample.system.cpu_percent >= 0.0);
    CHECK(sample.system.cpu_percent <= 100.0);
    CHECK(sample.system.memory_percent > 0.0);
    CHECK(sample.system.memory_percent <= 100.0);
    for (const auto& pressure : {sample.system.cpu_pressure, sample.system.memory_pressure,
                                 sample.system.io_pressure}) {
        if (pressure) CHECK(pressure->avg10 <= 100.0);
    }
    CHECK_FALSE(unit_named(sample, "healerd-test-absent.service").present);
    const auto& root = unit_named(sample, "-.slice");
    if (sampler.layout().kind != heal::CgroupLayout::Kind::none) {
        CHECK(root.present);
        CHECK(std::isfinite(root.cpu_percent));
        CHECK(root.cpu_percent >= 0.0);
    }
}
