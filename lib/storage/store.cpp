#include "storage/store.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>

#include <sqlite3.h>

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

namespace heal {
namespace {

// An incident that passed before healerd acted on it (SQL, over incidents).
constexpr std::string_view kSelfResolved = "(outcome = 'resolved' AND attempts = 0)";

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
    "id, timestamp, action, result, reward, recovery_time, unit, failure_kind, state, simulated, phase, detail, "
    "incident_id, relapsed";

constexpr std::string_view kIncidentColumns =
    "id, unit, failure_kind, opened_at, closed_at, outcome, healthy_since, attempts, relapses, detail";

constexpr std::array<std::string_view, 4> kPhaseNames{"running", "done", "interrupted", "dry_run"};

constexpr std::array<std::string_view, 5> kOutcomeNames{"open", "resolved", "given_up", "interrupted", "dry_run"};

// How retention reads a table: rows older than max_age by `age`, the newest
// max_rows by `order`, and which rows it may delete at all. Actions come
// before incidents, so fewer rows are left for ON DELETE SET NULL to clear.
struct RetainedTable {
    std::string_view name;
    std::string_view age;
    std::string_view order;
    std::string_view deletable;  // an SQL condition
};
constexpr std::array<RetainedTable, 3> kTables{{
    {"metrics", "timestamp", "timestamp", "1"},
    {"actions", "timestamp", "timestamp", "1"},
    {"incidents", "closed_at", "opened_at", "outcome != 'open'"},
}};

std::optional<std::int64_t> to_micros(const std::optional<TimePoint>& time) {
    return time ? std::optional<std::int64_t>(to_micros(*time)) : std::nullopt;
}

std::optional<TimePoint> from_micros(const std::optional<std::int64_t>& micros) {
    return micros ? std::optional<TimePoint>(from_micros(*micros)) : std::nullopt;
}

// Prepares the connection, then hands it on to the statements that need it ready.
sqlite::Connection& prepared(sqlite::Connection& db, StoreAccess access) {
    if (access == StoreAccess::read_only)
        schema::prepare_for_reading(db);
    else
        schema::prepare(db);
    return db;
}

constexpr std::string_view kMetricColumns =
    "id, timestamp, cpu, memory, status, unit, present, stopped, runnable_threads, memory_max, memory_high, "
    "cpu_limit, cpu_some, cpu_full, memory_some, memory_full, io_some, io_full, restarts, probes_failing";

std::optional<std::int64_t> to_column(const std::optional<std::uint64_t>& value) {
    if (!value) return std::nullopt;
    return static_cast<std::int64_t>(std::min<std::uint64_t>(*value, std::numeric_limits<std::int64_t>::max()));
}

std::optional<std::uint64_t> from_column(const std::optional<std::int64_t>& value) {
    if (!value || *value < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*value);
}

}  // namespace

std::string_view to_string(AttemptPhase phase) { return kPhaseNames.at(static_cast<std::size_t>(phase)); }

std::optional<AttemptPhase> parse_attempt_phase(std::string_view name) {
    for (std::size_t i = 0; i < kPhaseNames.size(); ++i)
        if (kPhaseNames[i] == name) return static_cast<AttemptPhase>(i);
    return std::nullopt;
}

std::string_view to_string(IncidentOutcome outcome) { return kOutcomeNames.at(static_cast<std::size_t>(outcome)); }

std::optional<IncidentOutcome> parse_incident_outcome(std::string_view name) {
    for (std::size_t i = 0; i < kOutcomeNames.size(); ++i)
        if (kOutcomeNames[i] == name) return static_cast<IncidentOutcome>(i);
    return std::nullopt;
}

void validate_incident(const IncidentRecord& record) {
    const bool open = record.outcome == IncidentOutcome::open;
    if (open && record.closed) throw std::invalid_argument("an open incident must not have a closed time");
    if (!open && !record.closed)
        throw std::invalid_argument(fmt::format("a {} incident needs a closed time", to_string(record.outcome)));
    if (record.outcome == IncidentOutcome::resolved && !record.healthy_since)
        throw std::invalid_argument("a resolved incident needs healthy_since");
    require_not_negative(record.attempts, "incident attempts");
    require_not_negative(record.relapses, "incident relapses");
    if (record.relapses > record.attempts)
        throw std::invalid_argument(fmt::format("incident relapses ({}) exceed its attempts ({})", record.relapses,
                                                record.attempts));
}

void validate_metric(const MetricRecord& record) {
    require_finite(record.cpu, "metric cpu");
    require_finite(record.memory, "metric memory");
    if (!record.detail) return;
    const ReadingDetail& detail = *record.detail;
    for (const auto& [value, field] : {std::pair{detail.cpu_limit_percent, "metric cpu_limit"},
                                       {detail.cpu_some, "metric cpu_some"}, {detail.cpu_full, "metric cpu_full"},
                                       {detail.memory_some, "metric memory_some"},
                                       {detail.memory_full, "metric memory_full"}, {detail.io_some, "metric io_some"},
                                       {detail.io_full, "metric io_full"}})
        if (value) require_finite(*value, field);
}

struct Store::Impl {
    struct TableRetention {
        sqlite::Statement older_than;
        sqlite::Statement beyond_newest;
    };

    Impl(const std::filesystem::path& file, StoreAccess access)
        : db(file, access == StoreAccess::read_only),
          insert_metric(prepared(db, access),
                        "INSERT INTO metrics (timestamp, cpu, memory, status, unit, present, stopped, "
                        "runnable_threads, memory_max, memory_high, cpu_limit, cpu_some, cpu_full, memory_some, "
                        "memory_full, io_some, io_full, restarts, probes_failing) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          insert_action(db,
                        "INSERT INTO actions (timestamp, action, result, reward, recovery_time, unit, failure_kind, "
                        "state, simulated, phase, detail, incident_id, relapsed) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          finish_action(db,
                        "UPDATE actions SET result = ?, reward = ?, recovery_time = ?, phase = ?, detail = ?, "
                        "incident_id = ?, relapsed = ? WHERE id = ?"),
          interrupt_running(db, "UPDATE actions SET phase = 'interrupted' WHERE phase = 'running'"),
          mark_relapsed(db,
                        "UPDATE actions SET relapsed = 1 WHERE id = ? AND phase = 'done' AND result = 'recovered'"),
          insert_incident(db,
                          "INSERT INTO incidents (unit, failure_kind, opened_at, closed_at, outcome, healthy_since, "
                          "attempts, relapses, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          update_incident(db,
                          "UPDATE incidents SET unit = ?, failure_kind = ?, opened_at = ?, closed_at = ?, "
                          "outcome = ?, healthy_since = ?, attempts = ?, relapses = ?, detail = ? WHERE id = ?"),
          interrupt_incidents(db,
                              "UPDATE incidents SET outcome = 'interrupted', closed_at = ? WHERE outcome = 'open'"),
          recent_incidents(db, fmt::format("SELECT {} FROM incidents ORDER BY opened_at DESC, id DESC LIMIT ?",
                                           kIncidentColumns)),
          closed_incidents_since(db, fmt::format("SELECT count(*) FROM incidents WHERE outcome IN ('resolved', "
                                                 "'given_up') AND NOT {} AND closed_at > ?",
                                                 kSelfResolved)),
          save_pause(db, "INSERT OR REPLACE INTO pauses (unit, since, until, paused_by) VALUES (?, ?, ?, ?)"),
          remove_pause(db, "DELETE FROM pauses WHERE unit = ?"),
          pauses(db, "SELECT unit, since, until, paused_by FROM pauses ORDER BY unit"),
          remove_raised_limits(db, "DELETE FROM raised_limits WHERE unit = ?"),
          insert_raised_limit(db, "INSERT INTO raised_limits (unit, property, configured, raised, raised_at, boot_id) "
                                  "VALUES (?, ?, ?, ?, ?, ?)"),
          raised_limits(db, "SELECT unit, property, configured, raised, raised_at, boot_id FROM raised_limits "
                            "ORDER BY unit, property"),
          recent_metrics(db, fmt::format("SELECT {} FROM metrics ORDER BY timestamp DESC, id DESC LIMIT ?",
                                         kMetricColumns)),
          metrics_between(db, fmt::format("SELECT {} FROM metrics WHERE timestamp >= ? AND timestamp < ? "
                                          "ORDER BY timestamp, id",
                                          kMetricColumns)),
          recent_actions(
              db, fmt::format("SELECT {} FROM actions ORDER BY timestamp DESC, id DESC LIMIT ?", kActionColumns)),
          all_actions(db, fmt::format("SELECT {} FROM actions WHERE phase = 'done' ORDER BY timestamp, id",
                                      kActionColumns)),
          summary(db,
                  "SELECT count(*), coalesce(sum(result = 'recovered' AND relapsed = 0), 0), "
                  "avg(CASE WHEN result = 'recovered' AND relapsed = 0 THEN recovery_time END) FROM actions "
                  "WHERE phase = 'done'"),
          // An incident resolved with no attempt passed on its own (the
          // machine on a real host is only observed): not a recovery.
          incident_summary(db,
                           fmt::format("SELECT coalesce(sum(NOT {0}), 0), "
                                       "coalesce(sum(outcome = 'resolved' AND attempts > 0), 0), "
                                       "coalesce(sum(outcome = 'given_up'), 0), "
                                       "avg(CASE WHEN outcome = 'given_up' OR (outcome = 'resolved' AND attempts > 0) "
                                       "THEN attempts END), "
                                       "coalesce(sum(relapses), 0), "
                                       "avg(CASE WHEN outcome = 'resolved' AND attempts > 0 "
                                       "THEN healthy_since - opened_at END) / 1e6, "
                                       "coalesce(sum({0}), 0) "
                                       "FROM incidents",
                                       kSelfResolved)),
          action_counts(db, "SELECT unit, action, result, count(*) FROM actions WHERE phase = 'done' "
                            "GROUP BY unit, action, result ORDER BY unit, action, result"),
          incident_counts(db, "SELECT unit, coalesce(failure_kind, ''), outcome, count(*) FROM incidents "
                              "WHERE outcome != 'open' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"),
          recovery_times(db, "SELECT recovery_time FROM actions WHERE phase = 'done' AND result = 'recovered' "
                             "AND recovery_time IS NOT NULL ORDER BY recovery_time"),
          retention{retention_for(kTables[0]), retention_for(kTables[1]), retention_for(kTables[2])} {}

    TableRetention retention_for(const RetainedTable& table) {
        return {sqlite::Statement(db, fmt::format("DELETE FROM {} WHERE {} < ? AND {}", table.name, table.age,
                                                  table.deletable)),
                sqlite::Statement(db, fmt::format("DELETE FROM {0} WHERE id IN (SELECT id FROM {0} "
                                                  "ORDER BY {1} DESC, id DESC LIMIT -1 OFFSET ?) AND {2}",
                                                  table.name, table.order, table.deletable))};
    }

    // Inserts a validated record: on its own, in autocommit, or inside a batch's transaction.
    void store_metric(const MetricRecord& record) {
        const auto use = insert_metric.use();
        insert_metric.bind(1, to_micros(record.timestamp))
            .bind(2, record.cpu)
            .bind(3, record.memory)
            .bind(4, std::string_view(record.healthy ? "Healthy" : "Failed"))
            .bind(5, std::string_view(record.unit));
        const std::optional<ReadingDetail>& detail = record.detail;
        const auto flag = [&](bool ReadingDetail::*field) {
            return detail ? std::optional<std::int64_t>((*detail).*field ? 1 : 0) : std::nullopt;
        };
        const auto real = [&](std::optional<double> ReadingDetail::*field) {
            return detail ? (*detail).*field : std::nullopt;
        };
        const auto count = [&](std::optional<std::uint64_t> ReadingDetail::*field) {
            return detail ? to_column((*detail).*field) : std::nullopt;
        };
        insert_metric.bind(6, flag(&ReadingDetail::present))
            .bind(7, flag(&ReadingDetail::stopped))
            .bind(8, detail ? std::optional<std::int64_t>(detail->runnable_threads) : std::nullopt)
            .bind(9, count(&ReadingDetail::memory_max_bytes))
            .bind(10, count(&ReadingDetail::memory_high_bytes))
            .bind(11, real(&ReadingDetail::cpu_limit_percent))
            .bind(12, real(&ReadingDetail::cpu_some))
            .bind(13, real(&ReadingDetail::cpu_full))
            .bind(14, real(&ReadingDetail::memory_some))
            .bind(15, real(&ReadingDetail::memory_full))
            .bind(16, real(&ReadingDetail::io_some))
            .bind(17, real(&ReadingDetail::io_full))
            .bind(18, count(&ReadingDetail::automatic_restarts))
            .bind(19, detail && detail->probes_failing ? std::optional<std::int64_t>(*detail->probes_failing)
                                                       : std::nullopt)
            .run("storing a metric");
    }

    [[noreturn]] void bad_row(std::string_view table, std::int64_t id, std::string_view problem) const {
        throw StoreError(fmt::format("{}: {} row {}: {}", db.file().string(), table, id, problem));
    }

    std::optional<FailureKind> read_failure_kind(const sqlite::Statement& row, int column, std::string_view table,
                                                 std::int64_t id) const {
        const auto name = row.column_optional_text(column);
        if (!name) return std::nullopt;
        const auto kind = parse_failure_kind(*name);
        if (!kind) bad_row(table, id, fmt::format("unknown failure_kind \"{}\"", *name));
        return kind;
    }

    MetricRecord read_metric(const sqlite::Statement& row) const {
        MetricRecord record;
        record.id = row.column_int(0);
        record.timestamp = from_micros(row.column_int(1));
        record.cpu = row.column_double(2);
        record.memory = row.column_double(3);
        record.healthy = row.column_text(4) == "Healthy";
        record.unit = row.column_text(5);
        const auto present = row.column_optional_int(6);
        if (!present) return record;  // stored before schema 6
        ReadingDetail detail;
        detail.present = *present != 0;
        detail.stopped = row.column_optional_int(7).value_or(0) != 0;
        detail.runnable_threads = static_cast<std::uint32_t>(
            std::clamp<std::int64_t>(row.column_optional_int(8).value_or(0), 0, std::numeric_limits<std::uint32_t>::max()));
        detail.memory_max_bytes = from_column(row.column_optional_int(9));
        detail.memory_high_bytes = from_column(row.column_optional_int(10));
        detail.cpu_limit_percent = row.column_optional_double(11);
        detail.cpu_some = row.column_optional_double(12);
        detail.cpu_full = row.column_optional_double(13);
        detail.memory_some = row.column_optional_double(14);
        detail.memory_full = row.column_optional_double(15);
        detail.io_some = row.column_optional_double(16);
        detail.io_full = row.column_optional_double(17);
        detail.automatic_restarts = from_column(row.column_optional_int(18));
        if (const auto failing = from_column(row.column_optional_int(19)))
            detail.probes_failing = static_cast<std::uint32_t>(std::min<std::uint64_t>(*failing, 1000000));
        record.detail = detail;
        return record;
    }

    ActionRecord read_action(const sqlite::Statement& row) const {
        ActionRecord record;
        record.id = row.column_int(0);
        record.timestamp = from_micros(row.column_int(1));
        const std::string action = row.column_text(2);
        const auto parsed_action = parse_action(action);
        if (!parsed_action) bad_row("actions", record.id, fmt::format("unknown action \"{}\"", action));
        record.action = *parsed_action;
        record.recovered = row.column_text(3) == "recovered";
        record.reward = row.column_double(4);
        record.recovery_time = row.column_optional_double(5);
        record.unit = row.column_text(6);
        record.failure_kind = read_failure_kind(row, 7, "actions", record.id);
        record.state = decode_state(record.id, row.column_blob(8));
        record.simulated = row.column_int(9) != 0;
        const std::string phase = row.column_text(10);
        const auto parsed_phase = parse_attempt_phase(phase);
        if (!parsed_phase) bad_row("actions", record.id, fmt::format("unknown phase \"{}\"", phase));
        record.phase = *parsed_phase;
        record.detail = row.column_text(11);
        record.incident_id = row.column_optional_int(12);
        record.relapsed = row.column_int(13) != 0;
        return record;
    }

    IncidentRecord read_incident(const sqlite::Statement& row) const {
        IncidentRecord record;
        record.id = row.column_int(0);
        record.unit = row.column_text(1);
        record.failure_kind = read_failure_kind(row, 2, "incidents", record.id);
        record.opened = from_micros(row.column_int(3));
        record.closed = from_micros(row.column_optional_int(4));
        const std::string outcome = row.column_text(5);
        const auto parsed_outcome = parse_incident_outcome(outcome);
        if (!parsed_outcome) bad_row("incidents", record.id, fmt::format("unknown outcome \"{}\"", outcome));
        record.outcome = *parsed_outcome;
        record.healthy_since = from_micros(row.column_optional_int(6));
        record.attempts = static_cast<std::int32_t>(row.column_int(7));
        record.relapses = static_cast<std::int32_t>(row.column_int(8));
        record.detail = row.column_text(9);
        return record;
    }

    // Binds the fields of `record` to parameters 1-9 of insert_incident or update_incident.
    static void bind_incident(sqlite::Statement& statement, const IncidentRecord& record) {
        statement.bind(1, std::string_view(record.unit))
            .bind(3, to_micros(record.opened))
            .bind(4, to_micros(record.closed))
            .bind(5, to_string(record.outcome))
            .bind(6, to_micros(record.healthy_since))
            .bind(7, std::int64_t{record.attempts})
            .bind(8, std::int64_t{record.relapses})
            .bind(9, std::string_view(record.detail));
        if (record.failure_kind) statement.bind(2, to_string(*record.failure_kind));  // else NULL
    }

    std::vector<float> decode_state(std::int64_t id, std::span<const unsigned char> bytes) const {
        if (bytes.size() % 4 != 0)
            bad_row("actions", id, fmt::format("state is {} bytes, not whole float32s", bytes.size()));
        std::vector<float> state;
        state.reserve(bytes.size() / 4);
        for (std::size_t i = 0; i < bytes.size(); i += 4) {
            std::uint32_t bits = 0;
            for (std::size_t b = 0; b < 4; ++b) bits |= std::uint32_t{bytes[i + b]} << (8 * b);
            state.push_back(std::bit_cast<float>(bits));
        }
        return state;
    }

    // Runs the page's query on `table` and hands each row to `read`. The SQL
    // has only the conditions the page sets, so SQLite can use the id order
    // and the time index as they fit.
    template <typename Record, typename Read>
    std::vector<Record> read_page(const HistoryPage& page, std::string_view table, std::string_view columns,
                                  std::string_view time_column, Read read) {
        require_not_negative(page.limit, "limit");
        require_not_negative(page.after_id, "after_id");
        std::string sql = fmt::format("SELECT {} FROM {} WHERE id {} ?", columns, table, page.newest_first ? "<" : ">");
        if (page.since) sql += fmt::format(" AND {} >= ?", time_column);
        if (page.until) sql += fmt::format(" AND {} < ?", time_column);
        if (page.unit) sql += " AND unit = ?";
        sql += fmt::format(" ORDER BY id {} LIMIT ?", page.newest_first ? "DESC" : "ASC");
        sqlite::Statement query(db, sql);
        int index = 1;
        const bool from_start = page.after_id == 0;
        query.bind(index++, page.newest_first && from_start ? std::numeric_limits<std::int64_t>::max() : page.after_id);
        if (page.since) query.bind(index++, to_micros(*page.since));
        if (page.until) query.bind(index++, to_micros(*page.until));
        if (page.unit) query.bind(index++, std::string_view(*page.unit));
        query.bind(index, page.limit);
        std::vector<Record> records;
        while (query.step(fmt::format("reading {}", table))) records.push_back(read(query));
        return records;
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
    sqlite::Statement mark_relapsed;
    sqlite::Statement insert_incident;
    sqlite::Statement update_incident;
    sqlite::Statement interrupt_incidents;
    sqlite::Statement recent_incidents;
    sqlite::Statement closed_incidents_since;
    sqlite::Statement save_pause;
    sqlite::Statement remove_pause;
    sqlite::Statement pauses;
    sqlite::Statement remove_raised_limits;
    sqlite::Statement insert_raised_limit;
    sqlite::Statement raised_limits;
    sqlite::Statement recent_metrics;
    sqlite::Statement metrics_between;
    sqlite::Statement recent_actions;
    sqlite::Statement all_actions;
    sqlite::Statement summary;
    sqlite::Statement incident_summary;
    sqlite::Statement action_counts;
    sqlite::Statement incident_counts;
    sqlite::Statement recovery_times;
    std::array<TableRetention, kTables.size()> retention;
    std::int64_t rows_added = 0;
};

Store::Store(const std::filesystem::path& path, StoreAccess access) : impl_(std::make_unique<Impl>(path, access)) {}

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
    if (record.relapsed && !record.recovered) throw std::invalid_argument("only a recovered action can relapse");
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
        .bind(11, std::string_view(record.detail))
        .bind(12, record.incident_id)
        .bind(13, std::int64_t{record.relapsed ? 1 : 0});
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
    running.relapsed = false;
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
        .bind(6, record.incident_id)
        .bind(7, std::int64_t{record.relapsed ? 1 : 0})
        .bind(8, record.id)
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

void Store::mark_relapsed(std::int64_t action_id) {
    auto& update = impl_->mark_relapsed;
    const auto use = update.use();
    update.bind(1, action_id).run("marking an attempt relapsed");
    if (impl_->db.changes() != 1)
        throw StoreError(fmt::format("{}: marking an attempt relapsed: no finished, recovered actions row {}",
                                     path().string(), action_id));
}

std::int64_t Store::open_incident(const IncidentRecord& record) {
    validate_incident(record);
    auto& insert = impl_->insert_incident;
    const auto use = insert.use();
    Impl::bind_incident(insert, record);
    insert.run("opening an incident");
    ++impl_->rows_added;
    return impl_->db.last_insert_id();
}

void Store::update_incident(const IncidentRecord& record) {
    validate_incident(record);
    auto& update = impl_->update_incident;
    const auto use = update.use();
    Impl::bind_incident(update, record);
    update.bind(10, record.id).run("updating an incident");
    if (impl_->db.changes() != 1)
        throw StoreError(fmt::format("{}: updating an incident: no incidents row {}", path().string(), record.id));
}

std::int64_t Store::interrupt_open_incidents(TimePoint now) {
    auto& update = impl_->interrupt_incidents;
    const auto use = update.use();
    update.bind(1, to_micros(now)).run("closing interrupted incidents");
    return impl_->db.changes();
}

std::vector<IncidentRecord> Store::recent_incidents(std::uint32_t limit) const {
    auto& query = impl_->recent_incidents;
    const auto use = query.use();
    query.bind(1, std::int64_t{limit});
    std::vector<IncidentRecord> records;
    while (query.step("reading incidents")) records.push_back(impl_->read_incident(query));
    return records;
}

std::int64_t Store::closed_incidents_since(TimePoint since) const {
    auto& query = impl_->closed_incidents_since;
    const auto use = query.use();
    query.bind(1, to_micros(since));
    if (!query.step("counting closed incidents")) impl_->db.fail("counting closed incidents");
    return query.column_int(0);
}

void Store::save_pause(const PauseRecord& record) {
    auto& insert = impl_->save_pause;
    const auto use = insert.use();
    std::optional<std::int64_t> until;
    if (record.until) until = to_micros(*record.until);
    insert.bind(1, std::string_view(record.unit))
        .bind(2, to_micros(record.since))
        .bind(3, until)
        .bind(4, std::int64_t{record.paused_by})
        .run("storing a pause");
}

void Store::save_raised_limits(const std::string& unit, const std::vector<RaisedLimitRecord>& records) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (const RaisedLimitRecord& record : records) {
        if (record.unit != unit)
            throw std::invalid_argument(fmt::format("a raised limit of {} stored as one of {}", record.unit, unit));
        if (record.configured > kMax || record.raised > kMax)
            throw std::invalid_argument(fmt::format("{} of {}: {} -> {} is beyond what the store keeps",
                                                    record.property, unit, record.configured, record.raised));
    }
    sqlite::Transaction transaction(impl_->db);
    {
        auto& remove = impl_->remove_raised_limits;
        const auto use = remove.use();
        remove.bind(1, std::string_view(unit)).run("removing raised limits");
    }
    for (const RaisedLimitRecord& record : records) {
        auto& insert = impl_->insert_raised_limit;
        const auto use = insert.use();
        insert.bind(1, std::string_view(record.unit))
            .bind(2, std::string_view(record.property))
            .bind(3, static_cast<std::int64_t>(record.configured))
            .bind(4, static_cast<std::int64_t>(record.raised))
            .bind(5, to_micros(record.raised_at))
            .bind(6, std::string_view(record.boot_id))
            .run("storing a raised limit");
    }
    transaction.commit();
}

std::vector<RaisedLimitRecord> Store::raised_limits() const {
    auto& query = impl_->raised_limits;
    const auto use = query.use();
    std::vector<RaisedLimitRecord> records;
    while (query.step("reading raised limits")) {
        RaisedLimitRecord record;
        record.unit = query.column_text(0);
        record.property = query.column_text(1);
        record.configured = static_cast<std::uint64_t>(query.column_int(2));  // CHECK >= 0
        record.raised = static_cast<std::uint64_t>(query.column_int(3));
        record.raised_at = from_micros(query.column_int(4));
        record.boot_id = query.column_text(5);
        records.push_back(std::move(record));
    }
    return records;
}

bool Store::remove_pause(const std::string& unit) {
    auto& remove = impl_->remove_pause;
    const auto use = remove.use();
    remove.bind(1, std::string_view(unit)).run("removing a pause");
    return impl_->db.changes() == 1;
}

std::vector<PauseRecord> Store::pauses() const {
    auto& query = impl_->pauses;
    const auto use = query.use();
    std::vector<PauseRecord> records;
    while (query.step("reading pauses")) {
        PauseRecord record;
        record.unit = query.column_text(0);
        record.since = from_micros(query.column_int(1));
        if (const auto until = query.column_optional_int(2)) record.until = from_micros(*until);
        const std::int64_t uid = query.column_int(3);
        if (uid > std::numeric_limits<std::uint32_t>::max())
            throw StoreError(fmt::format("{}: the pause of '{}': paused_by {} is not a uid", path().string(),
                                         record.unit, uid));
        record.paused_by = static_cast<std::uint32_t>(uid);
        records.push_back(std::move(record));
    }
    return records;
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

void Store::each_metric(TimePoint since, TimePoint until, const std::function<void(MetricRecord&&)>& visit) const {
    auto& query = impl_->metrics_between;
    const auto use = query.use();
    query.bind(1, to_micros(since)).bind(2, to_micros(until));
    while (query.step("reading metrics")) visit(impl_->read_metric(query));
}

std::vector<ActionRecord> Store::recent_actions(std::int64_t limit) const {
    require_not_negative(limit, "limit");
    auto& query = impl_->recent_actions;
    const auto use = query.use();
    query.bind(1, limit);
    return impl_->read_actions(query, "reading actions");
}

std::vector<MetricRecord> Store::metrics_page(const HistoryPage& page) const {
    return impl_->read_page<MetricRecord>(page, "metrics", kMetricColumns, "timestamp",
                                          [this](const sqlite::Statement& row) { return impl_->read_metric(row); });
}

std::vector<ActionRecord> Store::actions_page(const HistoryPage& page) const {
    return impl_->read_page<ActionRecord>(page, "actions", kActionColumns, "timestamp",
                                          [this](const sqlite::Statement& row) { return impl_->read_action(row); });
}

std::vector<IncidentRecord> Store::incidents_page(const HistoryPage& page) const {
    return impl_->read_page<IncidentRecord>(page, "incidents", kIncidentColumns, "opened_at",
                                            [this](const sqlite::Statement& row) { return impl_->read_incident(row); });
}

std::vector<ActionRecord> Store::all_actions() const {
    auto& query = impl_->all_actions;
    const auto use = query.use();
    return impl_->read_actions(query, "reading actions");
}

Summary Store::summary() const {
    Summary summary;
    {
        auto& query = impl_->summary;
        const auto use = query.use();
        if (!query.step("summarising actions")) impl_->db.fail("summarising actions");
        summary.total_actions = query.column_int(0);
        summary.successes = query.column_int(1);
        summary.failures = summary.total_actions - summary.successes;
        summary.success_rate = summary.total_actions == 0
                                   ? 0.0
                                   : 100.0 * static_cast<double>(summary.successes) / summary.total_actions;
        summary.avg_mttr = query.column_optional_double(2);
    }
    auto& query = impl_->incident_summary;
    const auto use = query.use();
    if (!query.step("summarising incidents")) impl_->db.fail("summarising incidents");
    summary.incidents = query.column_int(0);
    summary.resolved = query.column_int(1);
    summary.given_up = query.column_int(2);
    summary.attempts_per_incident = query.column_optional_double(3);
    summary.relapses = query.column_int(4);
    summary.mttr = query.column_optional_double(5);
    summary.self_resolved = query.column_int(6);
    return summary;
}

std::vector<ActionCount> Store::action_counts() const {
    auto& query = impl_->action_counts;
    const auto use = query.use();
    std::vector<ActionCount> counts;
    while (query.step("counting actions"))
        counts.push_back({query.column_text(0), query.column_text(1), query.column_text(2), query.column_int(3)});
    return counts;
}

std::vector<IncidentCount> Store::closed_incident_counts() const {
    auto& query = impl_->incident_counts;
    const auto use = query.use();
    std::vector<IncidentCount> counts;
    while (query.step("counting incidents"))
        counts.push_back({query.column_text(0), query.column_text(1), query.column_text(2), query.column_int(3)});
    return counts;
}

std::vector<double> Store::recovery_times() const {
    auto& query = impl_->recovery_times;
    const auto use = query.use();
    std::vector<double> times;
    while (query.step("reading recovery times")) times.push_back(query.column_double(0));
    return times;
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
