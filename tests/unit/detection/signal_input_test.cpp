#include "detection/signal.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"

using heal::test::at;
using heal::test::kMiB;

TEST_CASE("signal input: a unit's sample carries its limits and PSI, a stopped one only its name") {
    heal::UnitSample unit;
    unit.unit = "web.service";
    unit.present = true;
    unit.cpu_percent = 42.0;
    unit.memory_bytes = 100 * kMiB;
    unit.memory_high_bytes = 200 * kMiB;
    unit.cpu_limit_percent = 150.0;
    unit.cpu_pressure = heal::Pressure{12.5, 7, 6.25};
    unit.io_pressure = heal::Pressure{0.75, 9, std::nullopt};

    const auto input = heal::signal_input(unit, at(5), 4, 1024 * kMiB);
    CHECK(input.unit == "web.service");
    CHECK(input.time == at(5));
    CHECK(input.present);
    CHECK_FALSE(input.stopped);
    CHECK(input.cpu_percent == 42.0);
    CHECK(input.cpu_limit_percent == 150.0);
    CHECK(input.cpus == 4);
    CHECK(input.memory_bytes == 100 * kMiB);
    CHECK_FALSE(input.memory_max_bytes);
    CHECK(input.memory_high_bytes == 200 * kMiB);
    CHECK(input.machine_memory_bytes == 1024 * kMiB);
    REQUIRE(input.cpu_pressure);
    CHECK(input.cpu_pressure->full_avg10 == 6.25);
    CHECK_FALSE(input.memory_pressure);
    CHECK(input.io_pressure->avg10 == 0.75);
    CHECK(heal::memory_limit(input)->setting == "MemoryHigh");
    CHECK(heal::memory_percent(input) == 50.0);
    CHECK(heal::metric_value(input, heal::SignalMetric::cpu) == 42.0);
    CHECK(heal::metric_value(input, heal::SignalMetric::memory) == 50.0);

    unit.present = false;
    const auto gone = heal::signal_input(unit, at(6), 4, std::nullopt);
    CHECK_FALSE(gone.present);
    CHECK(gone.cpu_percent == 0.0);
    CHECK_FALSE(gone.memory_bytes);
    CHECK_FALSE(gone.cpu_pressure);
    CHECK_FALSE(heal::metric_value(gone, heal::SignalMetric::cpu));
}

TEST_CASE("signal input: the machine's memory in bytes is its used share of the RAM") {
    heal::SystemSample machine;
    machine.cpu_percent = 30.0;
    machine.memory_percent = 25.0;
    machine.memory_pressure = heal::Pressure{2.25, 1, 0.5};

    const auto input = heal::signal_input(machine, at(1), 8, 4096 * kMiB);
    CHECK(heal::target_name(input) == "the machine");
    CHECK(input.present);
    CHECK(input.cpu_percent == 30.0);
    CHECK(input.cpus == 8);
    CHECK(input.memory_bytes == 1024 * kMiB);
    CHECK(heal::memory_limit(input)->setting == "RAM");
    CHECK(heal::memory_percent(input) == 25.0);
    CHECK(input.memory_pressure->avg10 == 2.25);

    const auto unknown_ram = heal::signal_input(machine, at(1), 8, std::nullopt);
    CHECK_FALSE(unknown_ram.memory_bytes);
    CHECK_FALSE(heal::memory_percent(unknown_ram));
}
