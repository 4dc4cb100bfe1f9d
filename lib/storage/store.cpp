#include "storage/store.hpp"

#include <fmt/core.h>

#include <array>
#include <bit>
#include <cmath>
#include <span>
#include <string_view>

#include <sqlite3.h>

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

namespace heal {
namespace {

using std::chrono::microseconds;

std::int64_t to_micros(TimePoint time) {
    return std::chrono::floor<microseconds>(time.time_since_epoch()).count();
}

TimePoint from_micros(std::int64_t micros) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(microseconds(micros)));
}

std::vector<unsigned char> encode_state(const std::vector<float>& state) {
    std::vector<unsigned char> bytes;
    bytes.reserve(state.size() * 4);
    for (float value : state) {
        const auto bits = std::bit_cast<std::uint32_t>(value);
        for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<unsigned char>(bits >> shift));
    }
    return bytes;
}

void require_finite(double value, std::string_view field) {
    if (!std::isfinite(value)) throw std::invalid_argument(fmt::format("{} must be a finite number", field));
}

void require_not_negative(std::int64_t value, std::string_view field) {
    if (value < 0) throw std::invalid_argument(fmt::format("{} must not be negative (got {})", field, value));
}

constexpr std::string_view kActionColumns =
    "id, timestamp, action, result, reward, recovery_time, unit, failure_kind, state, simulated, phase, detail";

constexpr std::array<std::string_view, 4> kPhaseNames{"running", "done", "interrupted", "dry_run"};

constexpr std::array<std::string_view, 2> kTables{"metrics", "actions"};

// Prepares the connection, then hands it on to the statements that need it ready.
sqlite::Connection& prepared(sqlite::Connection& db) {
    schema::prepare(db);
    return db;
}

}  // namespace

std::string_view to_string(AttemptPhase phase) { return kPhaseNames.at(static_cast<std::size_t>(phase)); }

std::optional<AttemptPhase> parse_attempt_phase(std::string_view name) {
    for (std::size_t i = 0; i < kPhaseNames.size(); ++i)
        if (kPhaseNames[i] == name) return static_cast<AttemptPhase>(i);
    return std::nullopt;
}

void validate_metric(const MetricRecord& record) {
    require_finite(record.cpu, "metric cpu");
    require_finite(record.memory, "metric memory");
}

struct Store::Impl {
    struct TableRetention {
        sqlite::Statement older_than;
        sqlite::Statement beyond_newest;
    };

    explicit Impl(const std::filesystem::path& file)
        : db(file),
          insert_metric(prepared(db),
                        "INSERT INTO metrics (timestamp, cpu, memory, status, unit) VALUES (?, ?, ?, ?, ?)"),
          insert_action(db,
                        "INSERT INTO actions (timestamp, action, result, reward, recovery_time, unit, failure_kind, "
                        "state, simulated, phase, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          finish_action(db,
                        "UPDATE actions SET result = ?, reward = ?, recovery_time = ?, phase = ?, detail = ? "
                        "WHERE id = ?"),
          interrupt_running(db, "UPDATE actions SET phase = 'interrupted' WHERE phase = 'running'"),
          recent_metrics(db,
                         "SELECT id, timestamp, cpu, memory, status, unit FROM metrics "
                         "ORDER BY timestamp DESC, id DESC LIMIT ?"),
          recent_actions(
              db, fmt::format("SELECT {} FROM actions ORDER BY timestamp DESC, id DESC LIMIT ?", kActionColumns)),
          all_actions(db, fmt::format("SELECT {} FROM actions WHERE phase = 'done' ORDER BY timestamp, id",
                                      kActionColumns)),
          summary(db,
                  "SELECT count(*), coalesce(sum(result = 'recovered'), 0), "
                  "coalesce(avg(CASE WHEN result = 'recovered' THEN recovery_time END), 0.0) FROM actions "
                  "WHERE phase = 'done'"),
          retention{retention_for(kTables[0]), retention_for(kTables[1])} {}

    TableRetention retention_for(std::string_view table) {
        return {sqlite::Statement(db, fmt::format("DELETE FROM {} WHERE timestamp < ?", table)),
                sqlite::Statement(db, fmt::format("DELETE FROM {0} WHERE id IN (SELECT id FROM {0} "
                                                  "ORDER BY timestamp DESC, id DESC LIMIT -1 OFFSET ?)",
                                                  table))};
    }

    // Inserts a validated record: on its own, in autocommit, or inside a batch's transaction.
    void store_metric(const MetricRecord& record) {
        const auto use = insert_metric.use();
        insert_metric.bind(1, to_micros(record.timestamp))
            .bind(2, record.cpu)
            .bind(3, record.memory)
            .bind(4, std::string_view(record.healthy ? "Healthy" : "Failed"))
            .bind(5, std::string_view(record.unit))
            .run("storing a metric");
    }

    [[noreturn]] void bad_row(std::int64_t id, std::string_view problem) const {
        throw StoreError(fmt::format("{}: actions row {}: {}", db.file().string(), id, problem));
    }

    MetricRecord read_metric(const sqlite::Statement& row) const {
        MetricRecord record;
        record.id = row.column_int(0);
        record.timestamp = from_micros(row.column_int(1));
        record.cpu = row.column_double(2);
        record.memory = row.column_double(3);
        record.healthy = row.column_text(4) == "Healthy";
        record.unit = row.column_text(5);
        return record;
    }

    ActionRecord read_action(const sqlite::Statement& row) const {
        ActionRecord record;
        record.id = row.column_int(0);
        record.timestamp = from_micros(row.column_int(1));
        const std::string action = row.column_text(2);
        const auto parsed_action = parse_action(action);
        if (!parsed_action) bad_row(record.id, fmt::format("unknown action \"{}\"", action));
        record.action = *parsed_action;
        record.recovered = row.column_text(3) == "recovered";
        record.reward = row.column_double(4);
        record.recovery_time = row.column_optional_double(5);
        record.unit = row.column_text(6);
        if (const auto kind = row.column_optional_text(7)) {
            record.failure_kind = parse_failure_kind(*kind);
            if (!record.failure_kind) bad_row(record.id, fmt::format("unknown failure_kind \"{}\"", *kind));
        }
        record.state = decode_state(record.id, row.column_blob(8));
        record.simulated = row.column_int(9) != 0;
        const std::string phase = row.column_text(10);
        const auto parsed_phase = parse_attempt_phase(phase);
        if (!parsed_phase) bad_row(record.id, fmt::format("unknown phase \"{}\"", phase));
        record.phase = *parsed_phase;
        record.detail = row.column_text(11);
        return record;
    }

    std::vector<float> decode_state(std::int64_t id, std::span<const unsigned char> bytes) const {
        if (bytes.size() % 4 != 0) bad_row(id, fmt::format("state is {} bytes, not whole float32s", bytes.size()));
        std::vector<float> state;
        state.reserve(bytes.size() / 4);
        for (std::size_t i = 0; i < bytes.size(); i += 4) {
            std::uint32_t bits = 0;
            for (std::size_t b = 0; b < 4; ++b) bits |= std::uint32_t{bytes[i + b]} << (8 * b);
            state.push_back(std::bit_cast<float>(bits));
        }
        return state;
    }

    std::vector<ActionRecord> read_actions(sqlite::Statement& query, std::string_view what) {
        std::vector<ActionRecord> records;
        while (query.step(what)) records.push_back(read_action(query));
        return records;
    }

    // Declaration order matters: statements are finalized before the connection closes.
    sqlite::Connection db;
    sqlite::Statement insert_metric;
    sqlite::Statement insert_action;
    sqlite::Statement finish_action;
    sqlite::Statement interrupt_running;
    sqlite::Statement recent_metrics;
    sqlite::Statement recent_actions;
    sqlite::Statement all_actions;
    sqlite::Statement summary;
    std::array<TableRetention, kTables.size()> retention;
    std::int64_t rows_added = 0;
};

Store::Store(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {}

Store::~Store() = default;

const std::filesystem::path& Store::path() const {
    return impl_->db.file();
}

std::int64_t Store::add_metric(const MetricRecord& record) {
    validate_metric(record);
    impl_->store_metric(record);
    ++impl_->rows_added;
    return impl_->db.last_insert_id();
}

void Store::add_metrics(std::span<const MetricRecord> records) {
    for (const MetricRecord& record : records) validate_metric(record);
    if (records.empty()) return;
    sqlite::Transaction transaction(impl_->db);
    for (const MetricRecord& record : records) impl_->store_metric(record);
    transaction.commit();
    impl_->rows_added += static_cast<std::int64_t>(records.size());
}

namespace {

void validate_action(const ActionRecord& record) {
    require_finite(record.reward, "action reward");
    if (record.recovery_time) {
        require_finite(*record.recovery_time, "action recovery_time");
        if (*record.recovery_time < 0.0) throw std::invalid_argument("action recovery_time must not be negative");
    }
}

std::string_view result_of(const ActionRecord& record) { return record.recovered ? "recovered" : "failed"; }

}  // namespace

std::int64_t Store::add_action(const ActionRecord& record) {
    validate_action(record);
    auto& insert = impl_->insert_action;
    const auto use = insert.use();
    insert.bind(1, to_micros(record.timestamp))
        .bind(2, to_string(record.action))
        .bind(3, result_of(record))
        .bind(4, record.reward)
        .bind(5, record.recovery_time)
        .bind(6, std::string_view(record.unit))
        .bind_blob(8, encode_state(record.state))
        .bind(9, std::int64_t{record.simulated ? 1 : 0})
        .bind(10, to_string(record.phase))
        .bind(11, std::string_view(record.detail));
    if (record.failure_kind) insert.bind(7, to_string(*record.failure_kind));  // else NULL
    insert.run("storing an action");
    ++impl_->rows_added;
    return impl_->db.last_insert_id();
}

std::int64_t Store::begin_attempt(const ActionRecord& record) {
    ActionRecord running = record;
    running.phase = AttemptPhase::running;
    running.recovered = false;
    running.recovery_time.reset();
    running.reward = 0.0;
    return add_action(running);
}

void Store::finish_attempt(const ActionRecord& record) {
    validate_action(record);
    auto& update = impl_->finish_action;
    const auto use = update.use();
    update.bind(1, result_of(record))
        .bind(2, record.reward)
        .bind(3, record.recovery_time)
        .bind(4, to_string(record.phase))
        .bind(5, std::string_view(record.detail))
        .bind(6, record.id)
        .run("completing an attempt");
    if (impl_->db.changes() != 1)
        throw StoreError(fmt::format("{}: completing an attempt: no actions row {}", path().string(), record.id));
}

std::int64_t Store::interrupt_running() {
    auto& update = impl_->interrupt_running;
    const auto use = update.use();
    update.run("closing interrupted attempts");
    return impl_->db.changes();
}

std::vector<MetricRecord> Store::recent_metrics(std::int64_t limit) const {
    require_not_negative(limit, "limit");
    auto& query = impl_->recent_metrics;
    const auto use = query.use();
    query.bind(1, limit);
    std::vector<MetricRecord> records;
    while (query.step("reading metrics")) records.push_back(impl_->read_metric(query));
    return records;
}

std::vector<ActionRecord> Store::recent_actions(std::int64_t limit) const {
    require_not_negative(limit, "limit");
    auto& query = impl_->recent_actions;
    const auto use = query.use();
    query.bind(1, limit);
    return impl_->read_actions(query, "reading actions");
}

std::vector<ActionRecord> Store::all_actions() const {
    auto& query = impl_->all_actions;
    const auto use = query.use();
    return impl_->read_actions(query, "reading actions");
}

Summary Store::summary() const {
    auto& query = impl_->summary;
    const auto use = query.use();
    if (!query.step("summarising actions")) impl_->db.fail("summarising actions");
    Summary summary;
    summary.total_actions = query.column_int(0);
    summary.successes = query.column_int(1);
    summary.failures = summary.total_actions - summary.successes;
    summary.success_rate =
        summary.total_actions == 0 ? 0.0 : 100.0 * static_cast<double>(summary.successes) / summary.total_actions;
    summary.avg_mttr = query.column_double(2);
    return summary;
}

std::int64_t Store::apply_retention(const Retention& retention, TimePoint now) {
    if (retention.max_age) require_not_negative(retention.max_age->count(), "retention max_age");
    if (retention.max_rows) require_not_negative(*retention.max_rows, "retention max_rows");
    auto& db = impl_->db;
    const auto remove = [&db](sqlite::Statement& statement, std::int64_t parameter) {
        const auto use = statement.use();
        statement.bind(1, parameter).run("applying retention");
        return db.changes();
    };
    sqlite::Transaction transaction(db);
    std::int64_t removed = 0;
    for (auto& table : impl_->retention) {
        if (retention.max_age) removed += remove(table.older_than, to_micros(now - *retention.max_age));
        if (retention.max_rows) removed += remove(table.beyond_newest, *retention.max_rows);
    }
    transaction.commit();
    return removed;
}

std::int64_t Store::rows_added() const { return impl_->rows_added; }

void Store::checkpoint() {
    // Busy or partial (a reader) is fine: the next checkpoint finishes it.
    const int rc = sqlite3_wal_checkpoint_v2(impl_->db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) impl_->db.fail("checkpointing the WAL");
}

}  // namespace heal
