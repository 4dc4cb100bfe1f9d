#include "storage/metric_writer.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;
using namespace std::chrono_literals;

namespace {

const MetricWriter::Clock::time_point kStart{};

std::vector<MetricRecord> tick(double cpu) {
    MetricRecord machine;
    machine.timestamp = TimePoint(std::chrono::seconds(1'717'243'200) + std::chrono::seconds(static_cast<int>(cpu)));
    machine.cpu = cpu;
    machine.memory = 40.0;
    MetricRecord unit = machine;
    unit.unit = "web.service";
    return {machine, unit};
}

// A fresh database for each test.
struct FreshStore {
    TempDir dir;
    Store store{dir / "heal.db"};
};

}  // namespace

TEST_CASE_METHOD(FreshStore, "metric writer holds ticks until the oldest has waited the interval", "[storage]") {
    MetricWriter writer(store, 10s);

    writer.add(tick(1), kStart);
    writer.add(tick(2), kStart + 9s);
    CHECK(writer.pending() == 4);
    CHECK(store.recent_metrics(10).empty());

    writer.add(tick(3), kStart + 10s);
    CHECK(writer.pending() == 0);
    const std::vector<MetricRecord> stored = store.recent_metrics(10);
    REQUIRE(stored.size() == 6);
    CHECK(stored.front().cpu == 3.0);  // newest first
    CHECK(stored.back().cpu == 1.0);

    // The next batch's clock starts at its own first tick.
    writer.add(tick(4), kStart + 11s);
    writer.add(tick(5), kStart + 20s);
    CHECK(writer.pending() == 4);
}

TEST_CASE_METHOD(FreshStore, "metric writer with interval 0 writes every tick", "[storage]") {
    MetricWriter writer(store, 0ms);
    writer.add(tick(1), kStart);
    CHECK(writer.pending() == 0);
    CHECK(store.recent_metrics(10).size() == 2);
}

TEST_CASE_METHOD(FreshStore, "metric writer flushes on request and after a shorter interval is set", "[storage]") {
    MetricWriter writer(store, 1h);
    writer.add(tick(1), kStart);
    writer.flush();
    CHECK(store.recent_metrics(10).size() == 2);
    writer.flush();  // nothing queued: nothing written twice
    CHECK(store.recent_metrics(10).size() == 2);

    writer.add(tick(2), kStart + 1s);
    writer.set_interval(1s);
    writer.add(tick(3), kStart + 2s);
    CHECK(store.recent_metrics(10).size() == 6);
}

TEST_CASE_METHOD(FreshStore, "metric writer refuses an invalid tick before queueing any of it", "[storage]") {
    MetricWriter writer(store, 10s);
    writer.add(tick(1), kStart);
    std::vector<MetricRecord> bad = tick(2);
    bad.back().memory = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(writer.add(bad, kStart + 1s), std::invalid_argument);
    CHECK(writer.pending() == 2);
    writer.flush();
    CHECK(store.recent_metrics(10).size() == 2);
}

TEST_CASE_METHOD(FreshStore, "metric writer answers recent() from the store and its queue without writing", "[storage]") {
    MetricWriter writer(store, 1h);
    writer.add(tick(1), kStart);
    writer.flush();
    writer.add(tick(2), kStart + 1s);
    writer.add(tick(3), kStart + 2s);
    REQUIRE(writer.pending() == 4);

    const std::vector<MetricRecord> all = writer.recent(10);
    REQUIRE(all.size() == 6);
    // Newest first: the queued ticks (3, then 2), then the stored one.
    const std::vector<double> cpus{all[0].cpu, all[1].cpu, all[2].cpu, all[3].cpu, all[4].cpu, all[5].cpu};
    CHECK(cpus == std::vector<double>{3, 3, 2, 2, 1, 1});
    CHECK(all[0].unit == "web.service");  // the later row of its tick comes first
    CHECK(writer.pending() == 4);          // nothing was written
    CHECK(store.recent_metrics(10).size() == 2);

    CHECK(writer.recent(3).size() == 3);
    CHECK(writer.recent(3).back().cpu == 2.0);
    CHECK(writer.recent(0).empty());
    CHECK_THROWS_AS(writer.recent(-1), std::invalid_argument);
}

namespace {

// Takes the metrics table away from the store (another connection renames
// it) and gives it back: writes fail meanwhile, as on a full disk.
class TableOutage {
public:
    explicit TableOutage(const std::filesystem::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK); }
    ~TableOutage() { sqlite3_close(db_); }
    TableOutage(const TableOutage&) = delete;
    TableOutage& operator=(const TableOutage&) = delete;
    void begin() { exec("ALTER TABLE metrics RENAME TO metrics_away"); }
    void end() { exec("ALTER TABLE metrics_away RENAME TO metrics"); }

private:
    void exec(const char* sql) { REQUIRE(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK); }
    sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE_METHOD(FreshStore, "metric writer reports recovery only after a commit, with the samples lost", "[storage]") {
    MetricWriter writer(store, 10s);
    TableOutage outage(dir / "heal.db");
    outage.begin();
    writer.add(tick(1), kStart);
    CHECK_FALSE(writer.failing());
    CHECK_THROWS_AS(writer.add(tick(2), kStart + 10s), StoreError);
    CHECK(writer.failing());

    // Queueing while the database is still broken is not storing.
    writer.add(tick(3), kStart + 11s);
    CHECK(writer.failing());
    CHECK_FALSE(writer.take_recovery().has_value());

    outage.end();
    writer.add(tick(4), kStart + 21s);  // commits ticks 3 and 4
    CHECK_FALSE(writer.failing());
    const auto lost = writer.take_recovery();
    REQUIRE(lost.has_value());
    CHECK(*lost == 4);  // ticks 1 and 2, two rows each
    CHECK_FALSE(writer.take_recovery().has_value());  // once
    CHECK(store.recent_metrics(10).size() == 4);
}
