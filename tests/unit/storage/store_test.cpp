#include "storage/store.hpp"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using namespace heal;
using heal::test::TempDir;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {


// Direct SQLite access, to build databases the Store did not write and to
// look at what it did write.
class RawDb {
public:
    explicit RawDb(const fs::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK); }
    ~RawDb() { sqlite3_close(db_); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;
    void exec(const std::string& sql) {
        char* error = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
        INFO(sql << ": " << (error ? error : ""));
        sqlite3_free(error);
        REQUIRE(rc == SQLITE_OK);
    }
    void keep_wal_on_close() {
        REQUIRE(sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr) == SQLITE_OK);
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
        const auto* value = sqlite3_column_text(stmt, 0);
        std::string result = value ? reinterpret_cast<const char*>(value) : "";
        sqlite3_finalize(stmt);
        return result;
    }

private:
    sqlite3* db_ = nullptr;
};

std::string file_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

std::string open_error(const fs::path& file) {
    try {
        Store store(file);
    } catch (const StoreError& error) {
        return error.what();
    }
    return "(opened)";
}

// A refused file must come out byte for byte as it went in.
void check_refused_untouched(const fs::path& file, const std::string& expected_message_part) {
    const std::string before = file_bytes(file);
    const std::string message = open_error(file);
    CHECK_THAT(message, Catch::StartsWith(file.string() + ": "));
    CHECK_THAT(message, Catch::Contains(expected_message_part));
    CHECK(file_bytes(file) == before);
}

// Microsecond precision, the precision stored.
TimePoint at_micros(std::int64_t micros) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

const TimePoint kT0 = at_micros(1'717'243'200'123'456);  // 2024-06-01T12:00:00.123456Z

// The original design's tables, as a version-1 database held them.
constexpr const char* kSchema1 = R"sql(
    PRAGMA application_id = 1214603628;
    PRAGMA user_version = 1;
    CREATE TABLE metrics (id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, cpu REAL NOT NULL,
        memory REAL NOT NULL, status TEXT NOT NULL CHECK (status IN ('Healthy', 'Failed')));
    CREATE INDEX metrics_timestamp ON metrics (timestamp);
    CREATE INDEX metrics_status ON metrics (status);
    CREATE TABLE actions (id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, action TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('recovered', 'failed')), reward REAL NOT NULL,
        recovery_time REAL);
    CREATE INDEX actions_timestamp ON actions (timestamp);
)sql";

MetricRecord metric(TimePoint time, double cpu, bool healthy = true, std::string unit = "") {
    MetricRecord record;
    record.timestamp = time;
    record.cpu = cpu;
    record.memory = cpu / 2;
    record.healthy = healthy;
    record.unit = std::move(unit);
    return record;
}

ActionRecord action(TimePoint time, bool recovered, std::optional<double> recovery_time) {
    ActionRecord record;
    record.timestamp = time;
    record.action = Action::restart;
    record.recovered = recovered;
    record.recovery_time = recovery_time;
    record.reward = recovery_reward(recovered, recovery_time.value_or(0.0));
    return record;
}

}  // namespace

TEST_CASE("store: every metric field round-trips") {
    TempDir dir;
    Store store(dir / "heal.db");
    CHECK(store.path() == dir / "heal.db");
    const MetricRecord written = metric(kT0, 97.25, false, "nginx.service");
    const std::int64_t id = store.add_metric(written);
    const auto read = store.recent_metrics(10);
    REQUIRE(read.size() == 1);
    CHECK(read[0].id == id);
    CHECK(read[0].timestamp == written.timestamp);
    CHECK(read[0].cpu == written.cpu);
    CHECK(read[0].memory == written.memory);
    CHECK(read[0].healthy == false);
    CHECK(read[0].unit == "nginx.service");
    RawDb raw(dir / "heal.db");
    CHECK(raw.text("SELECT status FROM metrics") == "Failed");
    CHECK(raw.text("SELECT timestamp FROM metrics") == "1717243200123456");
}

namespace {

ReadingDetail full_detail() {
    ReadingDetail detail;
    detail.present = false;
    detail.stopped = true;
    detail.runnable_threads = 3;
    detail.memory_max_bytes = 300ULL << 20;
    detail.memory_high_bytes = 250ULL << 20;
    detail.cpu_limit_percent = 150.0;
    detail.cpu_some = 1.5;
    detail.cpu_full = 0.5;
    detail.memory_some = 12.25;
    detail.memory_full = 8.0;
    detail.io_some = 3.75;
    detail.io_full = 2.5;
    detail.automatic_restarts = 7;
    detail.probes_failing = 2;
    return detail;
}

}  // namespace

TEST_CASE("store: a metric's reading detail round-trips, and a row without one reads back without") {
    TempDir dir;
    Store store(dir / "heal.db");
    MetricRecord detailed = metric(kT0, 50.0, false, "web.service");
    detailed.detail = full_detail();
    MetricRecord sparse = metric(kT0, 20.0, true, "db.service");
    sparse.detail = ReadingDetail{};  // every optional absent
    const MetricRecord bare = metric(kT0 + 1s, 10.0);
    store.add_metrics(std::vector{detailed, sparse, bare});

    const auto read = store.recent_metrics(10);
    REQUIRE(read.size() == 3);
    CHECK_FALSE(read[0].detail);
    REQUIRE(read[1].detail);
    CHECK(*read[1].detail == ReadingDetail{});
    REQUIRE(read[2].detail);
    CHECK(*read[2].detail == full_detail());
    RawDb raw(dir / "heal.db");
    CHECK(raw.text("SELECT count(*) FROM metrics WHERE present IS NULL") == "1");
    CHECK(raw.text("SELECT probes_failing FROM metrics WHERE unit = 'web.service'") == "2");
    CHECK(raw.text("SELECT coalesce(probes_failing, 'none') FROM metrics WHERE unit = 'db.service'") == "none");
}

TEST_CASE("store: a non-finite pressure or limit in a detail is refused") {
    TempDir dir;
    Store store(dir / "heal.db");
    MetricRecord record = metric(kT0, 1.0);
    record.detail = ReadingDetail{};
    record.detail->io_full = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(store.add_metric(record), "metric io_full must be a finite number");
    record.detail->io_full.reset();
    record.detail->cpu_limit_percent = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(store.add_metric(record), "metric cpu_limit must be a finite number");
    CHECK(store.recent_metrics(10).empty());
}

TEST_CASE("store: each_metric visits the rows from since up to until, oldest first") {
    TempDir dir;
    Store store(dir / "heal.db");
    for (int second : {3, 0, 2, 1, 4}) store.add_metric(metric(kT0 + std::chrono::seconds(second), second));
    std::vector<double> seen;
    store.each_metric(kT0 + 1s, kT0 + 4s, [&](MetricRecord&& record) { seen.push_back(record.cpu); });
    CHECK(seen == std::vector<double>{1, 2, 3});
    seen.clear();
    store.each_metric(kT0 + 5s, kT0 + 9s, [&](MetricRecord&& record) { seen.push_back(record.cpu); });
    CHECK(seen.empty());
}

TEST_CASE("store: read-only, it reads what healerd wrote and writes nothing") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    {
        Store writer(file);
        MetricRecord record = metric(kT0, 42.0, true, "web.service");
        record.detail = full_detail();
        writer.add_metric(record);

        const std::string before = file_bytes(file);
        Store reader(file, StoreAccess::read_only);  // beside the writer, as healctl beside healerd
        std::vector<MetricRecord> seen;
        reader.each_metric(kT0, kT0 + 1s, [&](MetricRecord&& r) { seen.push_back(std::move(r)); });
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].detail == full_detail());
        CHECK_THROWS_AS(reader.add_metric(metric(kT0 + 1s, 1.0)), StoreError);
        CHECK(file_bytes(file) == before);
    }
    SECTION("a missing file is not created") {
        CHECK_THROWS_AS(Store(dir / "absent.db", StoreAccess::read_only), StoreError);
        CHECK_FALSE(fs::exists(dir / "absent.db"));
    }
    SECTION("an empty file is refused, not created as a database") {
        write_bytes(dir / "empty.db", "");
        CHECK_THROWS_WITH(Store(dir / "empty.db", StoreAccess::read_only),
                          Catch::Contains("empty: healerd has stored nothing in it yet"));
        CHECK(file_bytes(dir / "empty.db").empty());
    }
    SECTION("an older schema is refused, not migrated") {
        const fs::path old = dir / "old.db";
        RawDb(old).exec(kSchema1);
        const std::string before = file_bytes(old);
        CHECK_THROWS_WITH(Store(old, StoreAccess::read_only),
                          Catch::Contains("schema version 1 is older than this healctl reads (7); healerd migrates "
                                          "it when it starts"));
        CHECK(file_bytes(old) == before);
    }
    SECTION("a newer schema is refused") {
        RawDb(file).exec("PRAGMA user_version = 99");
        CHECK_THROWS_WITH(Store(file, StoreAccess::read_only), Catch::Contains("schema version 99 is newer"));
    }
}

TEST_CASE("store: every action field round-trips") {
    TempDir dir;
    Store store(dir / "heal.db");
    ActionRecord full = action(kT0, true, 1.25);
    full.action = Action::scale_up;
    full.unit = "postgresql.service";
    full.failure_kind = FailureKind::memory_leak;
    full.state = {0.97f, -0.0f, 0.3f, 1.0f, 0.0f, std::numeric_limits<float>::denorm_min(), 1e30f};
    full.simulated = true;
    ActionRecord bare = action(kT0 + 1s, false, std::nullopt);
    bare.action = Action::do_nothing;
    const std::int64_t full_id = store.add_action(full);
    const std::int64_t bare_id = store.add_action(bare);
    CHECK(bare_id > full_id);

    const auto all = store.all_actions();
    REQUIRE(all.size() == 2);
    const ActionRecord& a = all[0];
    CHECK(a.id == full_id);
    CHECK(a.timestamp == full.timestamp);
    CHECK(a.action == Action::scale_up);
    CHECK(a.recovered);
    CHECK(a.reward == full.reward);
    CHECK(a.recovery_time == full.recovery_time);
    CHECK(a.unit == "postgresql.service");
    CHECK(a.failure_kind == FailureKind::memory_leak);
    REQUIRE(a.state.size() == full.state.size());
    for (std::size_t i = 0; i < a.state.size(); ++i) {
        CHECK(std::bit_cast<std::uint32_t>(a.state[i]) == std::bit_cast<std::uint32_t>(full.state[i]));
    }
    CHECK(a.simulated);
    const ActionRecord& b = all[1];
    CHECK(b.id == bare_id);
    CHECK(b.action == Action::do_nothing);
    CHECK_FALSE(b.recovered);
    CHECK(b.reward == -10.0);
    CHECK_FALSE(b.recovery_time.has_value());
    CHECK(b.unit.empty());
    CHECK_FALSE(b.failure_kind.has_value());
    CHECK(b.state.empty());
    CHECK_FALSE(b.simulated);

    RawDb raw(dir / "heal.db");
    CHECK(raw.text("SELECT group_concat(result) FROM actions") == "recovered,failed");
    CHECK(raw.text("SELECT hex(substr(state, 1, 4)) FROM actions WHERE id = 1") ==
          "EC51783F");  // 0.97f = 0x3F7851EC, little-endian
}

TEST_CASE("store: timestamps keep microseconds and floor anything finer") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.add_metric(metric(kT0 + std::chrono::nanoseconds(999), 1.0));
    store.add_metric(metric(at_micros(-1) - std::chrono::nanoseconds(1), 1.0));  // before 1970
    const auto read = store.recent_metrics(2);
    REQUIRE(read.size() == 2);
    CHECK(read[0].timestamp == kT0);
    CHECK(read[1].timestamp == at_micros(-2));
}

TEST_CASE("store: recent rows come newest first, all actions oldest first") {
    TempDir dir;
    Store store(dir / "heal.db");
    // Inserted out of time order; equal timestamps fall back to insertion order.
    for (int offset : {3, 1, 4, 1, 5}) store.add_metric(metric(kT0 + std::chrono::seconds(offset), offset));
    for (int offset : {2, 7, 1}) store.add_action(action(kT0 + std::chrono::seconds(offset), true, offset));

    const auto metrics = store.recent_metrics(3);
    REQUIRE(metrics.size() == 3);
    CHECK(metrics[0].cpu == 5.0);
    CHECK(metrics[1].cpu == 4.0);
    CHECK(metrics[2].cpu == 3.0);
    const auto ones = store.recent_metrics(5);
    CHECK(ones[3].id > ones[4].id);  // the two at +1 s: later insert first

    const auto recent = store.recent_actions(2);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].recovery_time == 7.0);
    CHECK(recent[1].recovery_time == 2.0);
    const auto all = store.all_actions();
    REQUIRE(all.size() == 3);
    CHECK(all[0].recovery_time == 1.0);
    CHECK(all[2].recovery_time == 7.0);

    CHECK(store.recent_metrics(0).empty());
    CHECK(store.recent_actions(100).size() == 3);
    CHECK_THROWS_AS(store.recent_metrics(-1), std::invalid_argument);
    CHECK_THROWS_AS(store.recent_actions(-1), std::invalid_argument);
}

TEST_CASE("store: summary counts, success rate and MTTR") {
    TempDir dir;
    Store store(dir / "heal.db");
    const Summary empty = store.summary();
    CHECK(empty.total_actions == 0);
    CHECK(empty.successes == 0);
    CHECK(empty.failures == 0);
    CHECK(empty.success_rate == 0.0);
    CHECK_FALSE(empty.avg_mttr.has_value());
    CHECK(empty.incidents == 0);
    CHECK(empty.resolved == 0);
    CHECK(empty.given_up == 0);
    CHECK_FALSE(empty.attempts_per_incident.has_value());
    CHECK(empty.relapses == 0);
    CHECK_FALSE(empty.mttr.has_value());

    store.add_action(action(kT0, true, 1.0));
    store.add_action(action(kT0, true, 2.0));
    store.add_action(action(kT0, true, 4.5));
    store.add_action(action(kT0, false, std::nullopt));
    const Summary summary = store.summary();
    CHECK(summary.total_actions == 4);
    CHECK(summary.successes == 3);
    CHECK(summary.failures == 1);
    CHECK(summary.success_rate == Approx(75.0));
    REQUIRE(summary.avg_mttr.has_value());
    CHECK(*summary.avg_mttr == Approx(2.5));
}

TEST_CASE("store: without a success there is no MTTR, not 0") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.add_action(action(kT0, false, std::nullopt));
    const Summary summary = store.summary();
    CHECK(summary.total_actions == 1);
    CHECK(summary.failures == 1);
    CHECK(summary.success_rate == 0.0);
    CHECK_FALSE(summary.avg_mttr.has_value());
}

TEST_CASE("store: retention by age and by rows per table") {
    TempDir dir;
    Store store(dir / "heal.db");
    const TimePoint now = kT0 + 24h;
    for (int hours : {30, 26, 20, 10, 1}) {
        store.add_metric(metric(now - std::chrono::hours(hours), hours));
        store.add_action(action(now - std::chrono::hours(hours), true, hours));
    }
    CHECK(store.apply_retention({}, now) == 0);
    CHECK(store.apply_retention({.max_age = 24h, .max_rows = std::nullopt}, now) == 4);  // 30 h, 26 h in both
    CHECK(store.recent_metrics(10).size() == 3);
    CHECK(store.apply_retention({.max_age = std::nullopt, .max_rows = 2}, now) == 2);  // 20 h in both
    const auto metrics = store.recent_metrics(10);
    REQUIRE(metrics.size() == 2);
    CHECK(metrics[0].cpu == 1.0);
    CHECK(metrics[1].cpu == 10.0);
    const auto actions = store.all_actions();
    REQUIRE(actions.size() == 2);
    CHECK(actions[0].recovery_time == 10.0);
    CHECK(store.apply_retention({.max_age = 24h, .max_rows = 2}, now) == 0);
    CHECK(store.apply_retention({.max_age = std::nullopt, .max_rows = 0}, now) == 4);
    CHECK(store.summary().total_actions == 0);
    CHECK_THROWS_AS(store.apply_retention({.max_age = -1s, .max_rows = std::nullopt}, now), std::invalid_argument);
    CHECK_THROWS_AS(store.apply_retention({.max_age = std::nullopt, .max_rows = -1}, now), std::invalid_argument);
}

TEST_CASE("store: non-finite numbers are refused") {
    TempDir dir;
    Store store(dir / "heal.db");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(store.add_metric(metric(kT0, nan)), std::invalid_argument);
    ActionRecord bad = action(kT0, true, 1.0);
    bad.reward = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(store.add_action(bad), std::invalid_argument);
    bad = action(kT0, true, -1.0);
    CHECK_THROWS_AS(store.add_action(bad), std::invalid_argument);
    CHECK(store.recent_metrics(1).empty());
}

TEST_CASE("store: a batch of metrics is stored in order") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.add_metrics({});
    CHECK(store.recent_metrics(1).empty());

    // One tick: the machine and two units, all at the same time.
    const std::vector<MetricRecord> tick{metric(kT0, 10.0), metric(kT0, 20.0, false, "nginx.service"),
                                         metric(kT0, 30.0, true, "worker.service")};
    store.add_metrics(tick);
    store.add_metrics(std::vector<MetricRecord>{metric(kT0 + 1s, 40.0)});
    const auto read = store.recent_metrics(10);
    REQUIRE(read.size() == 4);
    CHECK(read[0].cpu == 40.0);
    // Equal timestamps come newest insert first, so the tick reads back reversed.
    for (std::size_t i = 0; i < tick.size(); ++i) {
        const MetricRecord& stored = read[tick.size() - i];
        CHECK(stored.timestamp == tick[i].timestamp);
        CHECK(stored.cpu == tick[i].cpu);
        CHECK(stored.memory == tick[i].memory);
        CHECK(stored.healthy == tick[i].healthy);
        CHECK(stored.unit == tick[i].unit);
    }
    CHECK(read[3].id < read[2].id);
    CHECK(read[2].id < read[1].id);
}

TEST_CASE("store: a batch with a bad record stores nothing") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.add_metric(metric(kT0, 1.0));
    SECTION("a non-finite number anywhere is refused up front") {
        std::vector<MetricRecord> tick{metric(kT0 + 1s, 10.0), metric(kT0 + 1s, 20.0, true, "nginx.service")};
        tick[1].memory = std::numeric_limits<double>::quiet_NaN();
        CHECK_THROWS_AS(store.add_metrics(tick), std::invalid_argument);
    }
    SECTION("a row the database refuses rolls back the rows before it") {
        RawDb(dir / "heal.db")
            .exec("CREATE TRIGGER refuse_bad BEFORE INSERT ON metrics WHEN NEW.unit = 'bad.service' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
        const std::vector<MetricRecord> tick{metric(kT0 + 1s, 10.0), metric(kT0 + 1s, 20.0, true, "bad.service")};
        CHECK_THROWS_WITH(store.add_metrics(tick), Catch::Contains("refused by the test"));
    }
    const auto read = store.recent_metrics(10);
    REQUIRE(read.size() == 1);
    CHECK(read[0].cpu == 1.0);
    store.add_metrics(std::vector<MetricRecord>{metric(kT0 + 2s, 2.0)});  // the store is still usable
    CHECK(store.recent_metrics(10).size() == 2);
}

TEST_CASE("store: a new database is healerd's, in WAL mode, at the current version, and persists") {
    TempDir dir;
    {
        Store store(dir / "heal.db");
        store.add_metric(metric(kT0, 12.5));
        RawDb raw(dir / "heal.db");
        CHECK(raw.text("PRAGMA journal_mode") == "wal");
        CHECK(raw.text("PRAGMA application_id") == std::to_string(0x4865616c));
        CHECK(raw.text("PRAGMA user_version") == std::to_string(Store::kSchemaVersion));
        CHECK(raw.text("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
                       "ORDER BY name)") ==
              "actions_incident,actions_phase,actions_timestamp,incidents_outcome_opened,metrics_status,"
              "metrics_timestamp");
    }
    Store reopened(dir / "heal.db");
    REQUIRE(reopened.recent_metrics(5).size() == 1);
    CHECK(reopened.recent_metrics(5)[0].cpu == 12.5);
}

TEST_CASE("store: an empty file is a version-0 database and is created") {
    TempDir dir;
    write_bytes(dir / "heal.db", "");
    Store store(dir / "heal.db");
    store.add_metric(metric(kT0, 1.0));
    CHECK(store.recent_metrics(1).size() == 1);
}

TEST_CASE("store: a version-1 database (the original design's tables) migrates forward, keeping its rows") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    {
        RawDb raw(file);
        raw.exec(kSchema1);
        raw.exec(R"sql(
            INSERT INTO metrics VALUES (1, 1717243200123456, 45.5, 62.0, 'Failed');
            INSERT INTO actions VALUES (1, 1717243201000000, 'rollback', 'recovered', 8.5, 0.75);
        )sql");
    }
    Store store(file);
    const auto metrics = store.recent_metrics(5);
    REQUIRE(metrics.size() == 1);
    CHECK(metrics[0].timestamp == kT0);
    CHECK(metrics[0].cpu == 45.5);
    CHECK_FALSE(metrics[0].healthy);
    CHECK(metrics[0].unit.empty());
    const auto actions = store.all_actions();
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].action == Action::rollback);
    CHECK(actions[0].recovery_time == 0.75);
    CHECK_FALSE(actions[0].failure_kind.has_value());
    CHECK(actions[0].state.empty());
    CHECK_FALSE(actions[0].simulated);
    ActionRecord later = action(kT0 + 5s, true, 1.0);
    later.unit = "nginx.service";
    later.state = {0.5f};
    store.add_action(later);
    CHECK(store.all_actions()[1].unit == "nginx.service");
    RawDb raw(file);
    CHECK(raw.text("PRAGMA user_version") == std::to_string(Store::kSchemaVersion));
}

TEST_CASE("store: a database from a newer healerd (or with a bad version) is refused, untouched") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    {
        Store store(file);
        store.add_metric(metric(kT0, 1.0));
    }
    SECTION("newer") {
        RawDb(file).exec("PRAGMA user_version = 99");
        check_refused_untouched(file, "schema version 99 is newer than this healerd supports (7)");
    }
    SECTION("nonsense") {
        RawDb(file).exec("PRAGMA user_version = -3");
        check_refused_untouched(file, "invalid schema version -3");
    }
}

TEST_CASE("store: a corrupt file is refused, untouched") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    SECTION("random bytes") {
        std::mt19937 rng(1);
        std::string noise(8192, '\0');
        for (char& c : noise) c = static_cast<char>(rng());
        write_bytes(file, noise);
        check_refused_untouched(file, "unreadable or corrupt database: file is not a database");
    }
    SECTION("a text file") {
        write_bytes(file, "metrics are great\n");
        check_refused_untouched(file, "unreadable or corrupt database");
    }
    SECTION("a healerd database cut short") {
        {
            Store store(file);
            for (int i = 0; i < 2000; ++i)
                store.add_metric(
                    metric(kT0 + std::chrono::seconds(i), i % 100, true, "some-long-unit-name-" + std::to_string(i)));
        }
        const std::string whole = file_bytes(file);
        REQUIRE(whole.size() > 16 * 4096);
        write_bytes(file, whole.substr(0, whole.size() / 2));
        check_refused_untouched(file, "corrupt");
    }
    SECTION("a healerd database with a damaged page") {
        {
            Store store(file);
            for (int i = 0; i < 2000; ++i) store.add_metric(metric(kT0 + std::chrono::seconds(i), i % 100));
        }
        std::string bytes = file_bytes(file);
        REQUIRE(bytes.size() > 8 * 4096);
        for (std::size_t i = 4 * 4096; i < 5 * 4096; ++i) bytes[i] = static_cast<char>(0xa5);
        write_bytes(file, bytes);
        check_refused_untouched(file, "corrupt");
    }
}

TEST_CASE("store: another program's SQLite database is refused, untouched") {
    TempDir dir;
    const fs::path file = dir / "other.db";
    SECTION("unknown tables") {
        RawDb(file).exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice')");
        check_refused_untouched(file,
                                "not a healerd database (application_id 0x00000000, user_version 0, tables: users)");
    }
    SECTION("another application_id") {
        RawDb(file).exec("PRAGMA application_id = 305419896; PRAGMA user_version = 1");
        check_refused_untouched(file, "application_id 0x12345678");
    }
    SECTION("in WAL mode with its log not yet checkpointed") {
        {
            RawDb other(file);
            other.keep_wal_on_close();
            other.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)");
        }
        REQUIRE(fs::file_size(file.string() + "-wal") > 0);
        // Closing the last connection would normally checkpoint the log into
        // the file; refusing it must not.
        check_refused_untouched(file, "tables: t");
    }
}

TEST_CASE("store: a missing directory is a clear error and is not created") {
    TempDir dir;
    const fs::path file = dir / "missing" / "heal.db";
    CHECK(open_error(file) ==
          file.string() + ": cannot open database: directory " + (dir / "missing").string() + " does not exist");
    CHECK_FALSE(fs::exists(dir / "missing"));
}

TEST_CASE("store: a row it cannot understand is reported with its id") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    Store store(file);
    store.add_action(action(kT0, true, 1.0));
    RawDb(file).exec("INSERT INTO actions (timestamp, action, result, reward) VALUES (1, 'reboot', 'failed', -10)");
    try {
        store.all_actions();
        FAIL("no error");
    } catch (const StoreError& error) {
        CHECK(std::string(error.what()) == file.string() + ": actions row 2: unknown action \"reboot\"");
    }
}

TEST_CASE("store: an attempt is stored running before it runs, then completed") {
    TempDir dir;
    Store store(dir / "heal.db");
    ActionRecord attempt = action(kT0, true, 2.5);
    attempt.unit = "web.service";
    attempt.id = store.begin_attempt(attempt);
    REQUIRE(store.recent_actions(5).size() == 1);
    const ActionRecord running = store.recent_actions(5)[0];
    CHECK(running.phase == AttemptPhase::running);
    CHECK_FALSE(running.recovered);
    CHECK(store.all_actions().empty());  // not an outcome yet
    CHECK(store.summary().total_actions == 0);

    attempt.detail = "restarted web.service";
    store.finish_attempt(attempt);
    const ActionRecord done = store.recent_actions(5)[0];
    CHECK(done.phase == AttemptPhase::done);
    CHECK(done.recovered);
    CHECK(done.recovery_time == 2.5);
    CHECK(done.detail == "restarted web.service");
    CHECK(store.all_actions().size() == 1);
    CHECK(store.summary().successes == 1);

    ActionRecord missing = attempt;
    missing.id = 999;
    CHECK_THROWS_WITH(store.finish_attempt(missing), Catch::Contains("no actions row 999"));
}

TEST_CASE("store: attempts left running are closed as interrupted, and never count") {
    TempDir dir;
    {
        Store store(dir / "heal.db");
        store.begin_attempt(action(kT0, false, std::nullopt));
        store.begin_attempt(action(kT0 + 1s, false, std::nullopt));
        ActionRecord dry = action(kT0 + 2s, false, std::nullopt);
        dry.phase = AttemptPhase::dry_run;
        store.add_action(dry);
        store.add_action(action(kT0 + 3s, false, std::nullopt));
    }
    Store store(dir / "heal.db");  // as after a crash
    CHECK(store.interrupt_running() == 2);
    CHECK(store.interrupt_running() == 0);
    const auto rows = store.recent_actions(10);
    REQUIRE(rows.size() == 4);
    CHECK(rows[2].phase == AttemptPhase::interrupted);
    CHECK(rows[3].phase == AttemptPhase::interrupted);
    CHECK(rows[1].phase == AttemptPhase::dry_run);
    const Summary summary = store.summary();
    CHECK(summary.total_actions == 1);  // only the finished failure
    CHECK(summary.failures == 1);
    CHECK(store.all_actions().size() == 1);
}

TEST_CASE("store: a version-2 database migrates to write-ahead attempts, its rows finished") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    {
        RawDb raw(file);  // what schema 2 looked like
        raw.exec(kSchema1);
        raw.exec(R"sql(
            ALTER TABLE metrics ADD COLUMN unit TEXT NOT NULL DEFAULT '';
            ALTER TABLE actions ADD COLUMN unit TEXT NOT NULL DEFAULT '';
            ALTER TABLE actions ADD COLUMN failure_kind TEXT;
            ALTER TABLE actions ADD COLUMN state BLOB NOT NULL DEFAULT x'';
            ALTER TABLE actions ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1));
            PRAGMA user_version = 2;
            INSERT INTO actions (timestamp, action, result, reward, recovery_time, unit)
                VALUES (1717243200123456, 'restart', 'recovered', 8.0, 1.0, 'web.service');
        )sql");
    }
    Store store(file);
    const auto rows = store.all_actions();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].phase == AttemptPhase::done);
    CHECK(rows[0].recovered);
    CHECK(rows[0].unit == "web.service");
}

TEST_CASE("store: only regular files are databases") {
    TempDir dir;
    CHECK(open_error("/dev/null") == "/dev/null: cannot open database: not a regular file (a character device)");
    // Through a symlink in a directory of its own, to see that no journal
    // appears beside it (/dev itself may hold one from elsewhere).
    fs::create_symlink("/dev/null", dir / "null.db");
    CHECK_THAT(open_error(dir / "null.db"), Catch::EndsWith("not a regular file (a character device)"));
    CHECK_FALSE(fs::exists(dir / "null.db-journal"));
    fs::create_directory(dir / "heal.db");
    CHECK(open_error(dir / "heal.db") ==
          (dir / "heal.db").string() + ": cannot open database: not a regular file (a directory)");
    REQUIRE(mkfifo((dir / "fifo.db").c_str(), 0600) == 0);
    CHECK_THAT(open_error(dir / "fifo.db"), Catch::EndsWith("not a regular file (a FIFO)"));
    {
        Store store(dir / "real.db");
    }
    fs::create_symlink(dir / "real.db", dir / "link.db");
    CHECK_NOTHROW(Store(dir / "link.db"));
}

TEST_CASE("store: a checkpoint cuts the WAL back") {
    TempDir dir;
    Store store(dir / "heal.db");
    std::vector<MetricRecord> batch;
    for (int i = 0; i < 20000; ++i) batch.push_back(metric(kT0 + std::chrono::seconds(i), i % 100));
    for (int round = 0; round < 5; ++round) store.add_metrics(batch);
    CHECK(store.rows_added() == 100000);
    store.checkpoint();
    CHECK(fs::file_size(dir / "heal.db-wal") == 0);
}

TEST_CASE("store: a version-3 database written by healerd migrates to incidents, keeping every row") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    // Written through the Store of schema 3 (commit dcb059c): six metrics
    // (machine and web.service, some Failed), and actions 1 done recovered,
    // 2 done failed, 3 dry_run, 4 interrupted, 5 left running by a kill.
    fs::copy_file(fs::path(HEAL_FIXTURES_DIR) / "storage" / "schema-3.db", file);
    REQUIRE(RawDb(file).text("PRAGMA user_version") == "3");

    Store store(file);
    RawDb raw(file);
    CHECK(raw.text("PRAGMA user_version") == std::to_string(Store::kSchemaVersion));
    CHECK(raw.text("SELECT count(*) FROM incidents") == "0");
    CHECK(raw.text("SELECT count(*) FROM pauses") == "0");
    CHECK(raw.text("SELECT count(*) FROM pragma_foreign_key_check") == "0");

    const auto metrics = store.recent_metrics(100);
    REQUIRE(metrics.size() == 6);
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const int second = static_cast<int>(metrics.size() - 1 - i);  // newest first
        CHECK(metrics[i].timestamp == kT0 + std::chrono::seconds(second));
        CHECK(metrics[i].cpu == 10.5 + second);
        CHECK(metrics[i].memory == 40.25 + second);
        CHECK(metrics[i].healthy == (second % 3 != 2));
        CHECK(metrics[i].unit == (second % 2 ? "web.service" : ""));
        CHECK_FALSE(metrics[i].detail);  // stored before schema 6
    }

    const auto actions = store.recent_actions(100);
    REQUIRE(actions.size() == 5);
    const ActionRecord& running = actions[0];
    CHECK(running.id == 5);
    CHECK(running.phase == AttemptPhase::running);  // closing it is the daemon's job at start
    CHECK(running.failure_kind == FailureKind::memory_leak);
    CHECK(actions[1].phase == AttemptPhase::interrupted);
    CHECK(actions[1].action == Action::scale_up);
    CHECK(actions[1].unit == "db.service");
    CHECK(actions[2].phase == AttemptPhase::dry_run);
    CHECK(actions[2].detail == "would do nothing");
    const ActionRecord& failed = actions[3];
    CHECK(failed.phase == AttemptPhase::done);
    CHECK_FALSE(failed.recovered);
    CHECK(failed.action == Action::rollback);
    CHECK(failed.failure_kind == FailureKind::bad_deploy);
    CHECK(failed.detail == "no previous deployment");
    const ActionRecord& healed = actions[4];
    CHECK(healed.id == 1);
    CHECK(healed.timestamp == kT0 + 10s);
    CHECK(healed.action == Action::restart);
    CHECK(healed.recovered);
    CHECK(healed.recovery_time == 1.5);
    CHECK(healed.reward == recovery_reward(true, 1.5));
    CHECK(healed.unit == "web.service");
    CHECK(healed.failure_kind == FailureKind::crash);
    CHECK(healed.state == std::vector<float>{0.25f, 0.5f, 1.0f});
    CHECK(healed.simulated);
    CHECK(healed.detail == "restarted web.service");
    CHECK(raw.text("SELECT count(*) FROM actions WHERE incident_id IS NULL AND relapsed = 0") == "5");

    const Summary summary = store.summary();
    CHECK(summary.total_actions == 2);
    CHECK(summary.successes == 1);
    CHECK(store.interrupt_running() == 1);
}

namespace {

IncidentRecord incident(TimePoint opened, IncidentOutcome outcome, std::int32_t attempts = 1,
                        std::optional<double> seconds_to_health = std::nullopt) {
    IncidentRecord record;
    record.unit = "web.service";
    record.opened = opened;
    record.outcome = outcome;
    record.attempts = attempts;
    if (outcome != IncidentOutcome::open) record.closed = opened + 60s;
    if (seconds_to_health)
        record.healthy_since = opened + std::chrono::duration_cast<TimePoint::duration>(
                                            std::chrono::duration<double>(*seconds_to_health));
    return record;
}

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("store: incident outcomes have names") {
    for (const IncidentOutcome outcome : {IncidentOutcome::open, IncidentOutcome::resolved, IncidentOutcome::given_up,
                                          IncidentOutcome::interrupted, IncidentOutcome::dry_run})
        CHECK(parse_incident_outcome(to_string(outcome)) == outcome);
    CHECK(to_string(IncidentOutcome::given_up) == "given_up");
    CHECK_FALSE(parse_incident_outcome("Resolved").has_value());
    CHECK_FALSE(parse_incident_outcome("").has_value());
}

TEST_CASE("store: every incident field round-trips, and an update overwrites them") {
    TempDir dir;
    Store store(dir / "heal.db");
    IncidentRecord full = incident(kT0, IncidentOutcome::resolved, 3, 12.5);
    full.failure_kind = FailureKind::memory_leak;
    full.relapses = 2;
    full.detail = "restart relapsed twice, scale_up held";
    IncidentRecord machine;
    machine.opened = kT0 + 1s;
    const std::int64_t full_id = store.open_incident(full);
    const std::int64_t machine_id = store.open_incident(machine);
    CHECK(machine_id > full_id);
    CHECK(store.rows_added() == 2);

    auto read = store.recent_incidents(10);
    REQUIRE(read.size() == 2);
    const IncidentRecord& open = read[0];  // opened last
    CHECK(open.id == machine_id);
    CHECK(open.unit.empty());
    CHECK_FALSE(open.failure_kind.has_value());
    CHECK(open.opened == kT0 + 1s);
    CHECK_FALSE(open.closed.has_value());
    CHECK(open.outcome == IncidentOutcome::open);
    CHECK_FALSE(open.healthy_since.has_value());
    CHECK(open.attempts == 0);
    CHECK(open.relapses == 0);
    CHECK(open.detail.empty());
    const IncidentRecord& a = read[1];
    CHECK(a.id == full_id);
    CHECK(a.unit == "web.service");
    CHECK(a.failure_kind == FailureKind::memory_leak);
    CHECK(a.opened == kT0);
    CHECK(a.closed == kT0 + 60s);
    CHECK(a.outcome == IncidentOutcome::resolved);
    CHECK(a.healthy_since == kT0 + 12500ms);
    CHECK(a.attempts == 3);
    CHECK(a.relapses == 2);
    CHECK(a.detail == full.detail);
    RawDb raw(dir / "heal.db");
    CHECK(raw.text("SELECT opened_at || ' ' || closed_at || ' ' || healthy_since FROM incidents WHERE id = 1") ==
          "1717243200123456 1717243260123456 1717243212623456");

    IncidentRecord changed = read[0];
    changed.unit = "db.service";
    changed.failure_kind = FailureKind::crash;
    changed.outcome = IncidentOutcome::given_up;
    changed.closed = kT0 + 90s;
    changed.attempts = 4;
    changed.relapses = 1;
    changed.detail = "every allowed action tried";
    store.update_incident(changed);
    read = store.recent_incidents(1);
    REQUIRE(read.size() == 1);
    CHECK(read[0].id == machine_id);
    CHECK(read[0].unit == "db.service");
    CHECK(read[0].failure_kind == FailureKind::crash);
    CHECK(read[0].outcome == IncidentOutcome::given_up);
    CHECK(read[0].closed == kT0 + 90s);
    CHECK(read[0].attempts == 4);
    CHECK(read[0].relapses == 1);
    CHECK(read[0].detail == "every allowed action tried");
    CHECK(store.recent_incidents(10)[1].detail == full.detail);  // the other row is untouched
    CHECK(store.recent_incidents(0).empty());

    changed.id = 999;
    CHECK_THAT(error_of([&] { store.update_incident(changed); }),
               Catch::EndsWith("updating an incident: no incidents row 999"));
}

TEST_CASE("store: incidents come newest first by opening time") {
    TempDir dir;
    Store store(dir / "heal.db");
    for (int offset : {2, 7, 1, 7})
        store.open_incident(incident(kT0 + std::chrono::seconds(offset), IncidentOutcome::open));
    const auto read = store.recent_incidents(3);
    REQUIRE(read.size() == 3);
    CHECK(read[0].opened == kT0 + 7s);
    CHECK(read[0].id == 4);  // the later of the two at +7 s
    CHECK(read[1].id == 2);
    CHECK(read[2].opened == kT0 + 2s);
}

TEST_CASE("store: an inconsistent incident is refused, naming the problem") {
    TempDir dir;
    Store store(dir / "heal.db");
    IncidentRecord record = incident(kT0, IncidentOutcome::open);
    SECTION("open with a closed time") {
        record.closed = kT0 + 1s;
        CHECK(error_of([&] { store.open_incident(record); }) == "an open incident must not have a closed time");
    }
    SECTION("closed without a closed time") {
        record.outcome = IncidentOutcome::given_up;
        CHECK(error_of([&] { store.open_incident(record); }) == "a given_up incident needs a closed time");
    }
    SECTION("resolved without healthy_since") {
        record = incident(kT0, IncidentOutcome::resolved);
        CHECK(error_of([&] { store.open_incident(record); }) == "a resolved incident needs healthy_since");
    }
    SECTION("negative counts") {
        record.attempts = -1;
        CHECK(error_of([&] { store.open_incident(record); }) == "incident attempts must not be negative (got -1)");
        record.attempts = 0;
        record.relapses = -2;
        CHECK(error_of([&] { store.open_incident(record); }) == "incident relapses must not be negative (got -2)");
    }
    SECTION("more relapses than attempts") {
        record.attempts = 1;
        record.relapses = 2;
        CHECK(error_of([&] { store.open_incident(record); }) == "incident relapses (2) exceed its attempts (1)");
    }
    CHECK_THROWS_AS(validate_incident(record), std::invalid_argument);
    CHECK(store.recent_incidents(10).empty());
    // An update is checked the same way, and changes nothing.
    IncidentRecord good = incident(kT0, IncidentOutcome::open);
    good.id = store.open_incident(good);
    record.id = good.id;
    CHECK_THROWS_AS(store.update_incident(record), std::invalid_argument);
    const IncidentRecord stored = store.recent_incidents(1)[0];
    CHECK(stored.outcome == IncidentOutcome::open);
    CHECK_FALSE(stored.closed.has_value());
    CHECK(stored.relapses == 0);
}

TEST_CASE("store: open incidents are closed as interrupted at start, and only they") {
    TempDir dir;
    const TimePoint now = kT0 + 1h;
    {
        Store store(dir / "heal.db");
        store.open_incident(incident(kT0, IncidentOutcome::open));
        store.open_incident(incident(kT0 + 1s, IncidentOutcome::resolved, 1, 5.0));
        store.open_incident(incident(kT0 + 2s, IncidentOutcome::open));
        store.open_incident(incident(kT0 + 3s, IncidentOutcome::dry_run));
    }
    Store store(dir / "heal.db");  // as after a crash
    CHECK(store.interrupt_open_incidents(now) == 2);
    CHECK(store.interrupt_open_incidents(now + 1s) == 0);
    const auto read = store.recent_incidents(10);
    REQUIRE(read.size() == 4);
    CHECK(read[0].outcome == IncidentOutcome::dry_run);
    CHECK(read[1].outcome == IncidentOutcome::interrupted);
    CHECK(read[1].closed == now);
    CHECK(read[2].outcome == IncidentOutcome::resolved);
    CHECK(read[2].closed == kT0 + 61s);
    CHECK(read[3].outcome == IncidentOutcome::interrupted);
    CHECK(read[3].closed == now);
}

TEST_CASE("store: closed incidents since a time count the resolved and given-up ones only") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.open_incident(incident(kT0, IncidentOutcome::resolved, 1, 5.0));  // closed at +60 s
    store.open_incident(incident(kT0 + 10s, IncidentOutcome::given_up));    // +70 s
    store.open_incident(incident(kT0 + 20s, IncidentOutcome::dry_run));
    store.open_incident(incident(kT0 + 30s, IncidentOutcome::interrupted));
    store.open_incident(incident(kT0 + 40s, IncidentOutcome::open));
    store.open_incident(incident(kT0 + 50s, IncidentOutcome::resolved, 0, 1.0));  // passed on its own
    CHECK(store.closed_incidents_since(kT0) == 2);
    CHECK(store.closed_incidents_since(kT0 + 60s) == 1);  // strictly after
    CHECK(store.closed_incidents_since(kT0 + 70s) == 0);
}

TEST_CASE("store: attempts carry their incident and relapse by every path") {
    TempDir dir;
    Store store(dir / "heal.db");
    const std::int64_t incident_id = store.open_incident(incident(kT0, IncidentOutcome::open));

    ActionRecord added = action(kT0, true, 1.0);
    added.incident_id = incident_id;
    added.relapsed = true;
    store.add_action(added);
    ActionRecord attempt = action(kT0 + 1s, true, 2.0);
    attempt.incident_id = incident_id;
    attempt.relapsed = true;  // not yet: a running attempt has not relapsed
    attempt.id = store.begin_attempt(attempt);
    CHECK(store.recent_actions(1)[0].incident_id == incident_id);
    CHECK_FALSE(store.recent_actions(1)[0].relapsed);
    attempt.relapsed = false;
    store.finish_attempt(attempt);
    store.add_action(action(kT0 + 2s, true, 3.0));  // from before incidents

    const auto all = store.all_actions();
    REQUIRE(all.size() == 3);
    CHECK(all[0].incident_id == incident_id);
    CHECK(all[0].relapsed);
    CHECK(all[1].incident_id == incident_id);
    CHECK_FALSE(all[1].relapsed);
    CHECK_FALSE(all[2].incident_id.has_value());
    CHECK_FALSE(all[2].relapsed);

    // finish_attempt writes what the record says, so a later relapse is kept
    // only if the record carries it.
    store.mark_relapsed(attempt.id);
    CHECK(store.recent_actions(2)[1].relapsed);
    attempt.relapsed = true;
    attempt.incident_id.reset();
    store.finish_attempt(attempt);
    CHECK(store.recent_actions(2)[1].relapsed);
    CHECK_FALSE(store.recent_actions(2)[1].incident_id.has_value());

    ActionRecord stray = action(kT0 + 3s, true, 1.0);
    stray.incident_id = 999;
    CHECK_THAT(error_of([&] { store.add_action(stray); }), Catch::Contains("FOREIGN KEY constraint failed"));
    CHECK_THAT(error_of([&] { store.begin_attempt(stray); }), Catch::Contains("FOREIGN KEY constraint failed"));
    CHECK(store.recent_actions(10).size() == 3);
}

TEST_CASE("store: a relapsed attempt is not a success") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.add_action(action(kT0, true, 1.0));
    const std::int64_t relapsing = store.add_action(action(kT0 + 1s, true, 9.0));
    const std::int64_t failed = store.add_action(action(kT0 + 2s, false, std::nullopt));
    const std::int64_t running = store.begin_attempt(action(kT0 + 3s, true, 1.0));

    store.mark_relapsed(relapsing);
    store.mark_relapsed(relapsing);  // twice is still once
    const Summary summary = store.summary();
    CHECK(summary.total_actions == 3);
    CHECK(summary.successes == 1);
    CHECK(summary.failures == 2);
    CHECK(summary.success_rate == Approx(100.0 / 3));
    CHECK(summary.avg_mttr == 1.0);  // the relapsed heal's 9 s is no recovery

    for (const std::int64_t id : {failed, running, std::int64_t{999}})
        CHECK_THAT(error_of([&] { store.mark_relapsed(id); }),
                   Catch::EndsWith("marking an attempt relapsed: no finished, recovered actions row " +
                                   std::to_string(id)));
    CHECK(RawDb(dir / "heal.db").text("SELECT group_concat(relapsed) FROM actions") == "0,1,0,0");

    ActionRecord unhealed = action(kT0 + 4s, false, std::nullopt);
    unhealed.relapsed = true;
    CHECK(error_of([&] { store.add_action(unhealed); }) == "only a recovered action can relapse");
    unhealed.id = failed;
    CHECK(error_of([&] { store.finish_attempt(unhealed); }) == "only a recovered action can relapse");
}

TEST_CASE("store: summary of incidents") {
    TempDir dir;
    Store store(dir / "heal.db");
    store.open_incident(incident(kT0, IncidentOutcome::open, 2));
    IncidentRecord relapsing = incident(kT0 + 1s, IncidentOutcome::resolved, 3, 10.0);
    relapsing.relapses = 2;
    store.open_incident(relapsing);
    store.open_incident(incident(kT0 + 2s, IncidentOutcome::resolved, 1, 4.0));
    IncidentRecord given_up = incident(kT0 + 3s, IncidentOutcome::given_up, 5);
    given_up.relapses = 1;
    store.open_incident(given_up);
    store.open_incident(incident(kT0 + 4s, IncidentOutcome::interrupted, 7));
    // A dry run that saw the target heal is still no resolution.
    store.open_incident(incident(kT0 + 5s, IncidentOutcome::dry_run, 1, 1.0));
    // Failures that passed before any action (the machine on a real host): not recoveries.
    store.open_incident(incident(kT0 + 6s, IncidentOutcome::resolved, 0, 2.0));
    store.open_incident(incident(kT0 + 7s, IncidentOutcome::resolved, 0, 3.0));

    const Summary summary = store.summary();
    CHECK(summary.self_resolved == 2);
    CHECK(summary.incidents == 6);
    CHECK(summary.resolved == 2);
    CHECK(summary.given_up == 1);
    REQUIRE(summary.attempts_per_incident.has_value());
    CHECK(*summary.attempts_per_incident == Approx(3.0));  // (3 + 1 + 5) / 3
    CHECK(summary.relapses == 3);
    REQUIRE(summary.mttr.has_value());
    CHECK(*summary.mttr == Approx(7.0));  // (10 + 4) / 2

    SECTION("without a resolved incident there is no MTTR") {
        TempDir other;
        Store only_given_up(other / "heal.db");
        only_given_up.open_incident(given_up);
        const Summary s = only_given_up.summary();
        CHECK(s.given_up == 1);
        CHECK(s.attempts_per_incident == 5.0);
        CHECK_FALSE(s.mttr.has_value());
    }
}

TEST_CASE("store: retention ages incidents by closing time, never deletes an open one, and unlinks its attempts") {
    TempDir dir;
    Store store(dir / "heal.db");
    const TimePoint now = kT0 + 48h;
    // Opened 40 h ago: still open; closed 39 h ago; closed 1 h ago. Opened 30 min ago: closed now.
    const std::int64_t old_open = store.open_incident(incident(now - 40h, IncidentOutcome::open));
    IncidentRecord old_closed = incident(now - 40h, IncidentOutcome::given_up);
    old_closed.closed = now - 39h;
    const std::int64_t old_closed_id = store.open_incident(old_closed);
    IncidentRecord long_one = incident(now - 40h, IncidentOutcome::resolved, 1, 60.0);
    long_one.closed = now - 1h;
    const std::int64_t long_id = store.open_incident(long_one);
    const std::int64_t recent_id = store.open_incident(incident(now - 30min, IncidentOutcome::given_up));
    ActionRecord attempt = action(now - 1h, true, 1.0);  // newer than max_age, its incident older
    attempt.incident_id = old_closed_id;
    store.add_action(attempt);

    CHECK(store.apply_retention({.max_age = 24h, .max_rows = std::nullopt}, now) == 1);
    auto ids = [&] {
        std::vector<std::int64_t> kept;
        for (const IncidentRecord& record : store.recent_incidents(10)) kept.push_back(record.id);
        return kept;
    };
    CHECK(ids() == std::vector<std::int64_t>{recent_id, long_id, old_open});  // by opened_at, then id
    const auto actions = store.recent_actions(10);
    REQUIRE(actions.size() == 1);
    CHECK_FALSE(actions[0].incident_id.has_value());
    CHECK(RawDb(dir / "heal.db").text("SELECT count(*) FROM pragma_foreign_key_check") == "0");

    // The open one counts among the newest rows kept, but is never deleted.
    CHECK(store.apply_retention({.max_age = std::nullopt, .max_rows = 1}, now) == 1);
    CHECK(ids() == std::vector<std::int64_t>{recent_id, old_open});
    CHECK(store.apply_retention({.max_age = std::nullopt, .max_rows = 0}, now) == 2);  // recent_id and the action
    CHECK(ids() == std::vector<std::int64_t>{old_open});
    CHECK(store.apply_retention({.max_age = 0s, .max_rows = 0}, now + 1000h) == 0);
    CHECK(ids() == std::vector<std::int64_t>{old_open});
}

TEST_CASE("store: an incident row it cannot understand is reported with its id") {
    TempDir dir;
    const fs::path file = dir / "heal.db";
    Store store(file);
    RawDb(file).exec(
        "INSERT INTO incidents (unit, failure_kind, opened_at, outcome) VALUES ('', 'gremlins', 1, 'open')");
    CHECK(error_of([&] { store.recent_incidents(1); }) ==
          file.string() + ": incidents row 1: unknown failure_kind \"gremlins\"");
}

TEST_CASE("store: finished attempts counted by unit, action and result") {
    TempDir dir;
    Store store(dir / "heal.db");
    CHECK(store.action_counts().empty());
    CHECK(store.recovery_times().empty());
    ActionRecord web = action(kT0, true, 3.5);
    web.unit = "web.service";
    store.add_action(web);
    store.add_action(web);
    web.recovered = false;
    web.recovery_time.reset();
    store.add_action(web);
    ActionRecord scale = action(kT0, true, 0.5);
    scale.action = Action::scale_up;
    const std::int64_t relapsed = store.add_action(scale);
    store.mark_relapsed(relapsed);  // still counted as judged: the counts only grow
    ActionRecord running = action(kT0, true, 9.0);
    running.phase = AttemptPhase::dry_run;  // not a finished attempt
    store.add_action(running);

    CHECK(store.action_counts() == std::vector<ActionCount>{{"", "scale_up", "recovered", 1},
                                                             {"web.service", "restart", "failed", 1},
                                                             {"web.service", "restart", "recovered", 2}});
    CHECK(store.recovery_times() == std::vector<double>{0.5, 3.5, 3.5});
}

TEST_CASE("store: closed incidents counted by unit, kind and outcome") {
    TempDir dir;
    Store store(dir / "heal.db");
    CHECK(store.closed_incident_counts().empty());
    store.open_incident(incident(kT0, IncidentOutcome::open));  // its outcome is still to come
    IncidentRecord crash = incident(kT0, IncidentOutcome::resolved, 1, 2.0);
    crash.failure_kind = FailureKind::crash;
    store.open_incident(crash);
    store.open_incident(crash);
    store.open_incident(incident(kT0, IncidentOutcome::given_up, 3));
    IncidentRecord machine = incident(kT0, IncidentOutcome::interrupted);
    machine.unit = "";
    store.open_incident(machine);

    CHECK(store.closed_incident_counts() == std::vector<IncidentCount>{{"", "", "interrupted", 1},
                                                                        {"web.service", "", "given_up", 1},
                                                                        {"web.service", "crash", "resolved", 2}});
}

TEST_CASE("store: raised limits are replaced per unit, and a value beyond SQLite's integers is refused", "[store]") {
    TempDir dir;
    Store store(dir / "heal.db");
    const TimePoint at = TimePoint(std::chrono::seconds(1'800'000'000));
    const RaisedLimitRecord memory{"web.service", "MemoryMax", 300, 450, at, "boot"};
    const RaisedLimitRecord quota{"web.service", "CPUQuotaPerSecUSec", 500000, 750000, at, "boot"};
    const RaisedLimitRecord other{"db.service", "MemoryHigh", 100, 150, at, "boot"};
    store.save_raised_limits("web.service", {memory, quota});
    store.save_raised_limits("db.service", {other});
    CHECK(store.raised_limits() == std::vector<RaisedLimitRecord>{other, quota, memory});
    store.save_raised_limits("web.service", {quota});
    CHECK(store.raised_limits() == std::vector<RaisedLimitRecord>{other, quota});

    RaisedLimitRecord huge = memory;
    huge.raised = ~std::uint64_t{0};
    CHECK_THROWS_AS(store.save_raised_limits("web.service", {huge}), std::invalid_argument);
    CHECK_THROWS_AS(store.save_raised_limits("db.service", {memory}), std::invalid_argument);  // another unit's row
    CHECK(store.raised_limits() == std::vector<RaisedLimitRecord>{other, quota});  // nothing lost
}

namespace {

// The cpu of each metric in a page: which rows, in which order.
std::vector<double> cpus(const std::vector<MetricRecord>& records) {
    std::vector<double> out;
    for (const MetricRecord& record : records) out.push_back(record.cpu);
    return out;
}

}  // namespace

TEST_CASE("store: history pages filter by time and unit, in either order, each going on after the last") {
    TempDir dir;
    Store store(dir / "heal.db");
    for (int second = 0; second < 6; ++second) {
        store.add_metric(metric(kT0 + std::chrono::seconds(second), second));
        store.add_metric(metric(kT0 + std::chrono::seconds(second), 100 + second, true, "web.service"));
    }
    HistoryPage page;
    page.unit = "";
    page.limit = 4;
    const auto first = store.metrics_page(page);
    CHECK(cpus(first) == std::vector<double>{0, 1, 2, 3});
    page.after_id = first.back().id;
    CHECK(cpus(store.metrics_page(page)) == std::vector<double>{4, 5});

    page = HistoryPage{};
    page.unit = "web.service";
    page.since = kT0 + 1s;
    page.until = kT0 + 5s;  // excluded
    page.newest_first = true;
    page.limit = 3;
    const auto newest = store.metrics_page(page);
    CHECK(cpus(newest) == std::vector<double>{104, 103, 102});
    page.after_id = newest.back().id;
    CHECK(cpus(store.metrics_page(page)) == std::vector<double>{101});

    page = HistoryPage{};  // no filter: both targets
    page.limit = 100;
    CHECK(store.metrics_page(page).size() == 12);
    page.limit = -1;
    CHECK_THROWS_AS(store.metrics_page(page), std::invalid_argument);
}

TEST_CASE("store: action and incident pages filter by their own times and units") {
    TempDir dir;
    Store store(dir / "heal.db");
    for (int second : {0, 10, 20}) {
        IncidentRecord opened = incident(kT0 + std::chrono::seconds(second), IncidentOutcome::resolved, 1, 5.0);
        if (second == 10) opened.unit = "db.service";
        store.open_incident(opened);
        ActionRecord attempt = action(kT0 + std::chrono::seconds(second + 1), true, 2.0);
        attempt.unit = opened.unit;
        store.add_action(attempt);
    }
    HistoryPage page;
    page.since = kT0 + 5s;
    page.unit = "web.service";
    const auto incidents = store.incidents_page(page);
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].opened == kT0 + 20s);
    const auto actions = store.actions_page(page);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].timestamp == kT0 + 21s);

    page = HistoryPage{};
    page.until = kT0 + 11s;  // by opening time for incidents, by timestamp for actions
    CHECK(store.incidents_page(page).size() == 2);
    CHECK(store.actions_page(page).size() == 1);
}
