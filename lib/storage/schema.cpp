#include "storage/schema.hpp"

#include <fmt/core.h>
#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>

#include "storage/store.hpp"

namespace heal::schema {
namespace {

// kMigrations[v] brings a database from schema version v to v + 1, inside the
// same transaction that records v + 1 in PRAGMA user_version. Append only.
// Timestamps are INTEGER microseconds since the Unix epoch (UTC).
constexpr std::array<std::string_view, 7> kMigrations{
    // 0 -> 1: the original design's two tables and indexes.
    R"sql(
CREATE TABLE metrics (
    id        INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    cpu       REAL NOT NULL,
    memory    REAL NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('Healthy', 'Failed'))
);
CREATE INDEX metrics_timestamp ON metrics (timestamp);
CREATE INDEX metrics_status ON metrics (status);
CREATE TABLE actions (
    id            INTEGER PRIMARY KEY,
    timestamp     INTEGER NOT NULL,
    action        TEXT NOT NULL,
    result        TEXT NOT NULL CHECK (result IN ('recovered', 'failed')),
    reward        REAL NOT NULL,
    recovery_time REAL
);
CREATE INDEX actions_timestamp ON actions (timestamp);
)sql",
    // 1 -> 2: what the daemon records beyond the original design. `state` is
    // the policy's observation as little-endian float32 values.
    R"sql(
ALTER TABLE metrics ADD COLUMN unit TEXT NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN unit TEXT NOT NULL DEFAULT '';
ALTER TABLE actions ADD COLUMN failure_kind TEXT;
ALTER TABLE actions ADD COLUMN state BLOB NOT NULL DEFAULT x'';
ALTER TABLE actions ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1));
)sql",
    // 2 -> 3: write-ahead attempts. An attempt is stored as 'running' before
    // its executor runs and completed after, so a crash can lose no executed
    // action; only 'done' rows are outcomes (summary, training).
    R"sql(
ALTER TABLE actions ADD COLUMN phase TEXT NOT NULL DEFAULT 'done'
    CHECK (phase IN ('running', 'done', 'interrupted', 'dry_run'));
ALTER TABLE actions ADD COLUMN detail TEXT NOT NULL DEFAULT '';
CREATE INDEX actions_phase ON actions (phase) WHERE phase = 'running';
)sql",
    // 3 -> 4: incidents. A failure opens one; its attempts are the actions
    // rows naming it (NULL for older rows), and a heal undone by a failure
    // within StableSec is marked relapsed. Deleting an incident (retention)
    // clears its actions' incident_id rather than leaving it dangling; the
    // index keeps that lookup from scanning every action.
    R"sql(
CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    unit          TEXT NOT NULL,
    failure_kind  TEXT,
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER,
    outcome       TEXT NOT NULL CHECK (outcome IN ('open', 'resolved', 'given_up', 'interrupted', 'dry_run')),
    healthy_since INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    relapses      INTEGER NOT NULL DEFAULT 0 CHECK (relapses >= 0),
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_outcome_opened ON incidents (outcome, opened_at);
ALTER TABLE actions ADD COLUMN incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL;
ALTER TABLE actions ADD COLUMN relapsed INTEGER NOT NULL DEFAULT 0 CHECK (relapsed IN (0, 1));
CREATE INDEX actions_incident ON actions (incident_id);
)sql",
    // 4 -> 5: maintenance pauses (healctl pause), one per target ('' for the
    // machine), kept so that they survive a restart. `until` NULL: until resumed.
    R"sql(
CREATE TABLE pauses (
    unit      TEXT PRIMARY KEY,
    since     INTEGER NOT NULL,
    until     INTEGER,
    paused_by INTEGER NOT NULL CHECK (paused_by >= 0)
) WITHOUT ROWID;
)sql",
    // 5 -> 6: what detection was given beyond cpu and memory, so that stored
    // history can be judged again (healctl replay). NULL in older rows:
    // present is NULL exactly in the rows that have no detail.
    R"sql(
ALTER TABLE metrics ADD COLUMN present INTEGER CHECK (present IN (0, 1));
ALTER TABLE metrics ADD COLUMN stopped INTEGER CHECK (stopped IN (0, 1));
ALTER TABLE metrics ADD COLUMN runnable_threads INTEGER CHECK (runnable_threads >= 0);
ALTER TABLE metrics ADD COLUMN memory_max INTEGER;
ALTER TABLE metrics ADD COLUMN memory_high INTEGER;
ALTER TABLE metrics ADD COLUMN cpu_limit REAL;
ALTER TABLE metrics ADD COLUMN cpu_some REAL;
ALTER TABLE metrics ADD COLUMN cpu_full REAL;
ALTER TABLE metrics ADD COLUMN memory_some REAL;
ALTER TABLE metrics ADD COLUMN memory_full REAL;
ALTER TABLE metrics ADD COLUMN io_some REAL;
ALTER TABLE metrics ADD COLUMN io_full REAL;
ALTER TABLE metrics ADD COLUMN restarts INTEGER;
ALTER TABLE metrics ADD COLUMN probes_failing INTEGER;
)sql",
    // 6 -> 7: limits scale_up raised and healerd has not put back yet, with
    // the boot they were raised in (runtime properties end with it).
    R"sql(
CREATE TABLE raised_limits (
    unit       TEXT NOT NULL,
    property   TEXT NOT NULL,
    configured INTEGER NOT NULL CHECK (configured >= 0),
    raised     INTEGER NOT NULL CHECK (raised >= 0),
    raised_at  INTEGER NOT NULL,
    boot_id    TEXT NOT NULL,
    PRIMARY KEY (unit, property)
) WITHOUT ROWID;
)sql",
};
static_assert(kMigrations.size() == Store::kSchemaVersion, "one migration per schema version");

void set_flag(sqlite::Connection& db, int option, int value, std::string_view what) {
    if (sqlite3_db_config(db.handle(), option, value, nullptr) != SQLITE_OK) db.fail(what);
}

[[noreturn]] void refuse(const sqlite::Connection& db, std::string_view why) {
    throw StoreError(fmt::format("{}: {}", db.file().string(), why));
}

// Whose file is it, and at which version? Reads only.
std::int64_t identify(sqlite::Connection& db) {
    const std::int64_t application_id = db.query_int("PRAGMA application_id", "unreadable or corrupt database");
    const std::int64_t version = db.query_int("PRAGMA user_version", "unreadable or corrupt database");
    if (application_id == kApplicationId) {
        if (version < 0) refuse(db, fmt::format("invalid schema version {}", version));
        if (version > Store::kSchemaVersion) {
            refuse(db, fmt::format("schema version {} is newer than this healerd supports ({}); refusing to open",
                                   version, Store::kSchemaVersion));
        }
        return version;
    }
    const std::string tables = db.query_text(
        R"(SELECT coalesce(group_concat(name, ', '), '') FROM sqlite_master
           WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\')",
        "unreadable or corrupt database");
    if (application_id == 0 && version == 0 && tables.empty()) return 0;  // new or empty: ours to create
    refuse(db, fmt::format("not a healerd database (application_id {:#010x}, user_version {}, tables: {})",
                           static_cast<std::uint32_t>(application_id), version, tables.empty() ? "none" : tables));
}

void check_integrity(sqlite::Connection& db) {
    // Damage is refused at start-up rather than met halfway through a run.
    const std::string result = db.query_text("PRAGMA quick_check(1)", "database is corrupt");
    if (result != "ok") refuse(db, fmt::format("database is corrupt: {}", result));
}

void migrate(sqlite::Connection& db, std::int64_t from) {
    sqlite::Transaction transaction(db);
    if (from == 0) db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId), "setting application_id");
    for (auto version = from; version < Store::kSchemaVersion; ++version) {
        db.exec(kMigrations[static_cast<std::size_t>(version)],
                fmt::format("migrating schema version {} to {}", version, version + 1));
    }
    db.exec(fmt::format("PRAGMA user_version = {}", Store::kSchemaVersion), "setting user_version");
    transaction.commit();
}

}  // namespace

void prepare(sqlite::Connection& db) {
    // Until the file is known to be ours, closing must not checkpoint a
    // foreign WAL into it.
    set_flag(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, "configuring the connection");
    // Running as root: a tampered file must not run functions from its schema.
    set_flag(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "configuring the connection");
    set_flag(db, SQLITE_DBCONFIG_DEFENSIVE, 1, "configuring the connection");
    if (sqlite3_db_readonly(db.handle(), "main") == 1) refuse(db, "cannot open for writing (file permissions?)");
    if (sqlite3_busy_timeout(db.handle(), 5000) != SQLITE_OK) db.fail("setting busy_timeout");

    const std::int64_t version = identify(db);
    if (version > 0) check_integrity(db);

    if (db.query_text("PRAGMA journal_mode = WAL", "enabling WAL") != "wal") refuse(db, "cannot enable WAL mode");
    // With WAL, NORMAL cannot corrupt the database; at worst the last
    // transactions before a power cut are lost.
    db.exec("PRAGMA synchronous = NORMAL", "setting synchronous");
    // A checkpoint that resets the WAL truncates it to this size, so the file
    // does not keep its largest size for as long as healerd runs.
    db.exec(fmt::format("PRAGMA journal_size_limit = {}", kWalSizeLimit), "setting journal_size_limit");
    // healerd writes in batches and reads little, so SQLite's default page
    // cache (2 MiB) would only grow its memory as the history does.
    db.exec(fmt::format("PRAGMA cache_size = -{}", kPageCacheKib), "setting cache_size");
    if (version < Store::kSchemaVersion) migrate(db, version);
    // Per connection, and only outside a transaction: what makes deleting an
    // incident clear its actions' incident_id, and refuses an action naming
    // an incident that does not exist.
    db.exec("PRAGMA foreign_keys = ON", "enabling foreign keys");
    set_flag(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, "configuring the connection");
}

void prepare_for_reading(sqlite::Connection& db) {
    set_flag(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "configuring the connection");
    if (sqlite3_busy_timeout(db.handle(), 5000) != SQLITE_OK) db.fail("setting busy_timeout");
    const std::int64_t version = identify(db);
    if (version == 0) refuse(db, "empty: healerd has stored nothing in it yet");
    // Only healerd migrates; the statements name this version's columns.
    if (version < Store::kSchemaVersion)
        refuse(db, fmt::format("schema version {} is older than this healctl reads ({}); healerd migrates it "
                               "when it starts",
                               version, Store::kSchemaVersion));
}

}  // namespace heal::schema
