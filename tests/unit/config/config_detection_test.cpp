// The detection sections: which signals judge, their settings, and a unit's
// own settings over the main file's.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;

TEST_CASE("detection: the defaults are the signals judged over time", "[config]") {
    const Config config;
    CHECK(config.detection.signals == std::vector<SignalKind>{SignalKind::cpu_saturation, SignalKind::memory_leak,
                                                              SignalKind::memory_pressure, SignalKind::crash_loop,
                                                              SignalKind::cpu_anomaly, SignalKind::memory_anomaly});
    CHECK(config.detection.inactive_for_sec == 2.0);
    CHECK(config.detection.original.consecutive == 3);
    CHECK_NOTHROW(config.detection.validate());
    CHECK(config.detection_of("any.service") == config.detection);
}

TEST_CASE("detection: every section's keys reach their signal", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf",
                                "[Detection]\nSignals=original memory_leak io_pressure\nInactiveForSec=500ms\n"
                                "MaxGapSec=10s\n"
                                "[CpuSaturation]\nForSec=2min\nSaturationPercent=90\nBaselineSec=1h\n"
                                "BaselineMinSec=5min\n"
                                "[MemoryLeak]\nForSec=1min\nPredictHorizonSec=10min\nTrendMinSlope=1M\n"
                                "TrendConsistency=0.9\nTrendMinPoints=8\n"
                                "[IOPressure]\nLimit=40\nLine=full\nForSec=1min\n"
                                "[CrashLoop]\nRestarts=5\nWindowSec=10min\n"
                                "[Anomaly]\nFalseAlarmsPerWeek=0.5\nHistorySec=1d\n");
    const DetectionConfig d = load_config(main, true).detection;
    CHECK(d.signals == std::vector<SignalKind>{SignalKind::cpu_original, SignalKind::memory_original,
                                               SignalKind::memory_leak, SignalKind::io_pressure});
    CHECK(d.inactive_for_sec == 0.5);
    CHECK(d.cpu_saturation.max_gap_sec == 10.0);
    CHECK(d.memory_anomaly.max_gap_sec == 10.0);
    CHECK(d.cpu_saturation.for_sec == 120.0);
    CHECK(d.cpu_saturation.saturation_percent == 90.0);
    CHECK(d.cpu_saturation.baseline_sec == 3600.0);
    CHECK(d.cpu_saturation.baseline_min_sec == 300.0);
    CHECK(d.memory_leak.for_sec == 60.0);
    CHECK(d.memory_leak.predict_horizon_sec == 600.0);
    CHECK(d.memory_leak.trend_min_slope_bytes_per_sec == 1024.0 * 1024.0);
    CHECK(d.memory_leak.trend_consistency == 0.9);
    CHECK(d.memory_leak.trend_min_points == 8);
    CHECK(d.io_pressure.limit_percent == 40.0);
    CHECK(d.io_pressure.line == PressureLine::full);
    CHECK(d.io_pressure.for_sec == 60.0);
    CHECK(d.crash_loop.restarts == 5);
    CHECK(d.crash_loop.window_sec == 600.0);
    CHECK(d.memory_pressure.limit_percent == 60.0);  // untouched
    CHECK(d.memory_pressure.for_sec == 30.0);
    CHECK(d.cpu_anomaly.false_alarms_per_week == 0.5);
    CHECK(d.memory_anomaly.false_alarms_per_week == 0.5);
    CHECK(d.memory_anomaly.history_sec == 86400.0);
}

TEST_CASE("detection: a unit's file overrides the main file's keys it sets and inherits the rest", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf",
                                "[Monitor]\nUnits=batch.service web.service\n"
                                "[CpuSaturation]\nForSec=30\nSaturationPercent=90\n");
    dir.write("units.d/batch.service.conf", "[Detection]\nSignals=memory_leak\n[CpuSaturation]\nForSec=10min\n");
    dir.write("units.d/batch.service.conf.d/late.conf", "[Detection]\nInactiveForSec=1min\n");
    const Config config = load_config(main, true);
    const DetectionConfig batch = config.detection_of("batch.service");
    CHECK(batch.signals == std::vector<SignalKind>{SignalKind::memory_leak});
    CHECK(batch.cpu_saturation.for_sec == 600.0);
    CHECK(batch.cpu_saturation.saturation_percent == 90.0);  // the main file's
    CHECK(batch.inactive_for_sec == 60.0);
    CHECK(config.detection_of("web.service") == config.detection);
    CHECK(config.detection_of("").cpu_saturation.for_sec == 30.0);
}

TEST_CASE("detection: a bad value names file, line and key, and a bad combination names the unit", "[config]") {
    TempDir dir;
    auto main = dir.write("healerd.conf", "[Detection]\nSignals=cpu_saturation cpu_magic\n");
    CHECK_THROWS_WITH(load_config(main, true),
                      Catch::StartsWith(main.string() + ":2: [Detection] Signals=cpu_saturation cpu_magic: 'cpu_magic' "
                                                        "is not a signal"));
    main = dir.write("healerd.conf", "[MemoryPressure]\nLine=half\n");
    CHECK_THROWS_WITH(load_config(main, true), Catch::Contains(":2: [MemoryPressure] Line=half: must be some or full"));
    main = dir.write("healerd.conf", "[Monitor]\nUnits=web.service\n[CpuSaturation]\nBaselineSec=30s\n");
    const auto unit_file = dir.write("units.d/web.service.conf", "[CpuSaturation]\nBaselineMinSec=1min\n");
    CHECK_THROWS_WITH(load_config(main, true),
                      Catch::StartsWith(unit_file.string() + ": the detection settings of web.service do not fit "
                                                             "together: cpu_saturation: baseline_min_sec"));
    dir.write("units.d/web.service.conf", "[CpuSaturation]\nForSec=soon\n");
    CHECK_THROWS_WITH(load_config(main, true), Catch::Contains("web.service.conf:2: [CpuSaturation] ForSec=soon"));
}

TEST_CASE("units.d [Unit] AllowedActions= replaces [Recovery]'s for that unit alone", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=db.service web.service\n"
                                                "[Recovery]\nAllowedActions=restart rollback\n");
    dir.write("units.d/db.service.conf", "[Unit]\nAllowedActions=restart\n");
    const Config config = load_config(main, true);
    const ActionSet db = config.allowed_actions_of("db.service");
    CHECK(contains(db, Action::restart));
    CHECK(db.count() == 1);
    const ActionSet web = config.allowed_actions_of("web.service");
    CHECK(contains(web, Action::restart));
    CHECK(contains(web, Action::rollback));
    CHECK(web.count() == 2);
    CHECK(config.allowed_actions_of("") == config.allowed_actions);
    dir.write("units.d/db.service.conf", "[Unit]\nAllowedActions=restart reboot\n");
    CHECK_THROWS_WITH(load_config(main, true), Catch::Contains("db.service.conf:2: [Unit] AllowedActions=restart reboot: "
                                                               "'reboot' is not an action"));
}

TEST_CASE("units.d [Unit] MemoryMaxCeiling= and CPUQuotaCeiling= are that unit's scale_up ceilings", "[config]") {
    TempDir dir;
    const auto main = dir.write("healerd.conf", "[Monitor]\nUnits=db.service web.service cache.service\n"
                                                "[Recovery]\nMemoryMaxCeiling=2G\nCPUQuotaCeiling=300%\n");
    dir.write("units.d/db.service.conf", "[Unit]\nMemoryMaxCeiling=512M\n");
    dir.write("units.d/cache.service.conf", "[Unit]\nMemoryMaxCeiling=infinity\nCPUQuotaCeiling=1.5x\n");
    const Config config = load_config(main, true);
    const LimitCeilings db{LimitCeiling::absolute(512.0 * 1024 * 1024), LimitCeiling::absolute(300.0)};
    CHECK(config.ceilings_of("db.service") == db);  // CPU from [Recovery]
    CHECK(config.ceilings_of("cache.service") == LimitCeilings{LimitCeiling::unlimited(), LimitCeiling::multiple(1.5)});
    const LimitCeilings recovery{LimitCeiling::absolute(2.0 * 1024 * 1024 * 1024), LimitCeiling::absolute(300.0)};
    CHECK(config.ceilings_of("web.service") == recovery);
    CHECK(config.ceilings_of("") == recovery);
    dir.write("units.d/db.service.conf", "[Unit]\nMemoryMaxCeiling=0\n");
    CHECK_THROWS_WITH(load_config(main, true),
                      Catch::Contains("db.service.conf:2: [Unit] MemoryMaxCeiling=0: must be a multiple of the unit's "
                                      "limit like 2x, a size like 512M or 4G, or infinity"));
    dir.write("units.d/db.service.conf", "[Unit]\nMemoryMaxCeiling=0.5x\n");  // below the limit itself
    CHECK_THROWS_WITH(load_config(main, true), Catch::Contains("[Unit] MemoryMaxCeiling=0.5x: must be a multiple"));
    dir.write("units.d/db.service.conf", "[Unit]\nCPUQuotaCeiling=x\n");
    CHECK_THROWS_WITH(load_config(main, true), Catch::Contains("[Unit] CPUQuotaCeiling=x: must be a multiple"));
}
