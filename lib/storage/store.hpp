#pragma once
// SQLite history: every sample (metrics), every recovery attempt (actions)
// and every incident the attempts belong to (incidents). Schema follows the
// original design, extended with columns and tables later issues need.
//
// On disk: tables `metrics(id, timestamp, cpu, memory, status, unit,
// present, stopped, runnable_threads, memory_max, memory_high, cpu_limit,
// cpu_some, cpu_full, memory_some, memory_full, io_some, io_full, restarts,
// probes_failing)`,
// `actions(id, timestamp, action, result, reward, recovery_time, unit,
// failure_kind, state, simulated, phase, detail, incident_id, relapsed)` and
// `incidents(id, unit, failure_kind, opened_at, closed_at, outcome,
// healthy_since, attempts, relapses, detail)`. Timestamps are INTEGER
// microseconds since the Unix epoch (UTC), as in the D-Bus API: they sort,
// and a time point with microsecond precision reads back exactly (finer
// parts are floored). `state` is a BLOB of little-endian float32 values.
// actions.incident_id references incidents(id) (foreign keys on; deleting an
// incident sets it NULL). PRAGMA application_id marks the file as healerd's,
// PRAGMA user_version holds the schema version; WAL mode.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/action.hpp"

namespace heal {

// Raised for a database that cannot be opened, is corrupt, belongs to another
// program, or comes from a newer healerd. what() names the file.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using TimePoint = std::chrono::system_clock::time_point;

// What detection was given at a tick beyond CPU and memory (schema 6), so
// that `healctl replay` can judge stored history again with other settings.
// Pressures are avg10 percentages; absent values were unknown or unset.
struct ReadingDetail {
    bool present = true;   // the unit was running
    bool stopped = false;  // not running on purpose
    std::uint32_t runnable_threads = 0;
    std::optional<std::uint64_t> memory_max_bytes{};
    std::optional<std::uint64_t> memory_high_bytes{};
    std::optional<double> cpu_limit_percent{};
    std::optional<double> cpu_some{};
    std::optional<double> cpu_full{};
    std::optional<double> memory_some{};
    std::optional<double> memory_full{};
    std::optional<double> io_some{};
    std::optional<double> io_full{};
    std::optional<std::uint64_t> automatic_restarts{};  // systemd's NRestarts
    std::optional<std::uint32_t> probes_failing{};      // of the unit's probes; absent: it has none

    bool operator==(const ReadingDetail&) const = default;
};

struct MetricRecord {
    std::int64_t id = 0;
    TimePoint timestamp;
    double cpu = 0.0;
    double memory = 0.0;
    bool healthy = true;  // stored as status 'Healthy' / 'Failed'
    std::string unit;     // "" for the whole machine
    std::optional<ReadingDetail> detail{};  // absent in rows stored before schema 6
};

// The state the policy saw when it chose, kept so the environment can be
// calibrated and the decision explained later.
// Throws std::invalid_argument for a record the store would refuse
// (a non-finite cpu or memory).
void validate_metric(const MetricRecord& record);

// Where a stored attempt stands. An attempt is stored `running` before its
// executor runs; `interrupted` when healerd stopped or died before it was
// judged; `dry_run` when DryRun= only said what it would do. Only `done`
// attempts are outcomes: they alone count in the summary and train the policy.
enum class AttemptPhase { running, done, interrupted, dry_run };
std::string_view to_string(AttemptPhase phase);
std::optional<AttemptPhase> parse_attempt_phase(std::string_view name);

struct ActionRecord {
    std::int64_t id = 0;
    TimePoint timestamp;
    Action action = Action::do_nothing;
    bool recovered = false;  // stored as result 'recovered' / 'failed'
    double reward = 0.0;
    std::optional<double> recovery_time;  // seconds; absent when it failed
    std::string unit;
    std::optional<FailureKind> failure_kind;
    std::vector<float> state;  // the policy's observation vector
    bool simulated = false;    // executed by the simulated backend
    AttemptPhase phase = AttemptPhase::done;
    std::string detail;        // what the executor reported
    std::optional<std::int64_t> incident_id;  // the incident it was made for; none before schema 4
    bool relapsed = false;     // recovered, then failed again within StableSec: not a success
};

// How an incident ended. `open` until then; `resolved` once the target stayed
// healthy for StableSec; `given_up` when healerd stopped trying;
// `interrupted` when healerd stopped or died with it open (closed at the
// next start); `dry_run` when DryRun= only said what it would do.
enum class IncidentOutcome { open, resolved, given_up, interrupted, dry_run };
std::string_view to_string(IncidentOutcome outcome);
std::optional<IncidentOutcome> parse_incident_outcome(std::string_view name);

// One failure of a target, from its detection until it is resolved or given
// up, with the attempts (actions rows naming it) made meanwhile.
struct IncidentRecord {
    std::int64_t id = 0;
    std::string unit;  // "" for the whole machine
    std::optional<FailureKind> failure_kind;
    TimePoint opened;
    std::optional<TimePoint> closed;  // exactly when the outcome is not `open`
    IncidentOutcome outcome = IncidentOutcome::open;
    std::optional<TimePoint> healthy_since;  // start of durable health; required when `resolved`
    std::int32_t attempts = 0;
    std::int32_t relapses = 0;  // at most attempts
    std::string detail;
};

// A maintenance pause (healctl pause): the target is still sampled and shown,
// but gets no action until it is resumed or `until` has passed.
struct PauseRecord {
    std::string unit;  // "" for the whole machine
    TimePoint since;
    std::optional<TimePoint> until;  // none: until resumed
    std::uint32_t paused_by = 0;     // the caller's uid
};

// A cgroup limit scale_up raised and healerd has not put back yet. Runtime
// properties end with the boot, so each belongs to the boot it was raised in.
// The values are systemd's (bytes; CPU time per second for CPUQuota), kept
// as SQLite's signed integers: systemd's infinity is never raised to.
struct RaisedLimitRecord {
    std::string unit;
    std::string property;  // "MemoryMax", "MemoryHigh", "CPUQuotaPerSecUSec"
    std::uint64_t configured = 0;
    std::uint64_t raised = 0;
    TimePoint raised_at;
    std::string boot_id;

    bool operator==(const RaisedLimitRecord&) const = default;
};

// Throws std::invalid_argument for an incident the store would refuse:
// `closed` set for an open incident or missing for a closed one, a resolved
// one without healthy_since, negative counts, more relapses than attempts.
void validate_incident(const IncidentRecord& record);

struct Summary {
    // Finished (`done`) attempts only. A relapsed attempt is a failure.
    std::int64_t total_actions = 0;
    std::int64_t successes = 0;  // recovered and not relapsed
    std::int64_t failures = 0;
    double success_rate = 0.0;          // percent; 0 when there are no attempts
    std::optional<double> avg_mttr;     // mean recovery_time of the successes, seconds; none without any
    // Every incident healerd acted on or could still act on, open ones
    // included; dry-run ones are neither resolved nor given up. One resolved
    // without any attempt passed on its own (on a real host the machine is
    // only observed): it is counted apart, in self_resolved, and nowhere else.
    std::int64_t incidents = 0;
    std::int64_t resolved = 0;
    std::int64_t given_up = 0;
    std::optional<double> attempts_per_incident;  // mean over resolved and given-up ones; none without any
    std::int64_t relapses = 0;                    // over every incident
    std::optional<double> mttr;  // mean healthy_since - opened of resolved incidents, seconds; none without any
    std::int64_t self_resolved = 0;
};

// History counted by labels, for a metrics export; values as stored
// (a missing failure kind is "").
struct ActionCount {
    std::string unit;
    std::string action;
    std::string result;  // "recovered" or "failed"
    std::int64_t count = 0;
    bool operator==(const ActionCount&) const = default;
};
struct IncidentCount {
    std::string unit;
    std::string failure_kind;
    std::string outcome;  // a closed outcome: never "open"
    std::int64_t count = 0;
    bool operator==(const IncidentCount&) const = default;
};

// Applies to each table: metrics and actions by timestamp, incidents by
// closed_at (ordered by opened_at for max_rows). An open incident is never
// deleted, though it counts among the newest max_rows.
struct Retention {
    std::optional<std::chrono::seconds> max_age;
    std::optional<std::int64_t> max_rows;  // per table
};

// One page of a history export (healctl metrics, actions, incidents): the
// rows with since <= time < until (metrics and actions by timestamp,
// incidents by opening time), of one target when `unit` is set ("" the
// machine), in the order stored (row id): oldest first, or newest first.
// A page starts after the row `after_id` (0: at the first row of that order),
// so each page goes on from the last row of the one before.
struct HistoryPage {
    std::optional<TimePoint> since;
    std::optional<TimePoint> until;
    std::optional<std::string> unit;
    bool newest_first = false;
    std::int64_t after_id = 0;
    std::int64_t limit = 100;
};

enum class StoreAccess { read_write, read_only };

// Not thread-safe: the daemon uses one Store from its event-loop thread.
class Store {
public:
    // Opens or creates the database, migrating older schemas forward. The
    // directory must exist. A corrupt or foreign file, or one written by a
    // newer healerd, is refused with StoreError and left untouched.
    // read_only (healctl reading healerd's history beside it) writes nothing:
    // the file must exist at this schema version, and any write throws.
    explicit Store(const std::filesystem::path& path, StoreAccess access = StoreAccess::read_write);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Return the new row's id (record.id is ignored). Non-finite numbers, or
    // relapsed without recovered, throw std::invalid_argument; database
    // failures throw StoreError.
    std::int64_t add_metric(const MetricRecord& record);
    std::int64_t add_action(const ActionRecord& record);
    // Write-ahead attempts: begin_attempt stores the record as `running` (its
    // result provisionally failed, not relapsed) and returns its id;
    // finish_attempt overwrites the row record.id with the record's outcome,
    // phase, detail, incident_id and relapsed (StoreError when there is no
    // such row). An incident_id naming no incident is a StoreError.
    std::int64_t begin_attempt(const ActionRecord& record);
    void finish_attempt(const ActionRecord& record);
    // Marks every `running` attempt `interrupted` (at start, after a crash);
    // returns how many.
    std::int64_t interrupt_running();
    // Marks a finished, recovered attempt relapsed (it no longer counts as a
    // success); StoreError naming the id when there is no such attempt.
    void mark_relapsed(std::int64_t action_id);

    // Incidents. open_incident stores the record (record.id is ignored) and
    // returns its id; update_incident overwrites the row record.id with every
    // field (StoreError when there is no such row). Both validate first
    // (validate_incident).
    std::int64_t open_incident(const IncidentRecord& record);
    void update_incident(const IncidentRecord& record);
    // Closes every open incident as `interrupted` at `now` (at start, after
    // healerd stopped or died with them open); returns how many.
    std::int64_t interrupt_open_incidents(TimePoint now);
    // Newest first (by opened, then id).
    std::vector<IncidentRecord> recent_incidents(std::uint32_t limit) const;
    // Incidents resolved (after an attempt) or given up after `since`: what
    // retraining learns from.
    std::int64_t closed_incidents_since(TimePoint since) const;
    // Pauses: save_pause replaces the target's pause, if any; remove_pause
    // returns whether there was one; pauses() lists them by unit.
    void save_pause(const PauseRecord& record);
    bool remove_pause(const std::string& unit);
    std::vector<PauseRecord> pauses() const;
    // Raised limits: save_raised_limits replaces the unit's rows with
    // `records` (all of that unit) in one transaction; raised_limits() lists
    // them by unit and property. Values above INT64_MAX throw std::invalid_argument.
    void save_raised_limits(const std::string& unit, const std::vector<RaisedLimitRecord>& records);
    std::vector<RaisedLimitRecord> raised_limits() const;
    // Stores the records in order in one transaction (one sampling tick's
    // rows), all or none: a non-finite number anywhere throws
    // std::invalid_argument before anything is written, and a database
    // failure rolls back whatever the batch had stored.
    void add_metrics(std::span<const MetricRecord> records);

    // Newest first (by timestamp, then id); a negative limit throws
    // std::invalid_argument.
    std::vector<MetricRecord> recent_metrics(std::int64_t limit) const;
    // Every metric row with since <= timestamp < until, oldest first (by
    // timestamp, then id), one at a time: a week of history is not held at once.
    void each_metric(TimePoint since, TimePoint until, const std::function<void(MetricRecord&&)>& visit) const;
    std::vector<ActionRecord> recent_actions(std::int64_t limit) const;
    // A page of each table (see HistoryPage); a negative limit or after_id
    // throws std::invalid_argument.
    std::vector<MetricRecord> metrics_page(const HistoryPage& page) const;
    std::vector<ActionRecord> actions_page(const HistoryPage& page) const;
    std::vector<IncidentRecord> incidents_page(const HistoryPage& page) const;
    // Every finished (`done`) action, oldest first (for calibrating the environment).
    std::vector<ActionRecord> all_actions() const;

    Summary summary() const;
    // Finished (`done`) attempts by unit, action and result, relapsed ones
    // under the result they were judged with (so the counts only grow).
    std::vector<ActionCount> action_counts() const;
    // Closed incidents by unit, failure kind and outcome (an open incident's
    // outcome is still to change).
    std::vector<IncidentCount> closed_incident_counts() const;
    // The recovery_time of every finished, recovered attempt, in seconds.
    std::vector<double> recovery_times() const;
    // All three ordered by their labels.
    // Deletes rows older than max_age and beyond max_rows (see Retention);
    // returns rows removed.
    // Negative limits throw std::invalid_argument.
    std::int64_t apply_retention(const Retention& retention, TimePoint now);
    // Rows inserted by this Store since it was opened (for pacing retention).
    std::int64_t rows_added() const;
    // Copies the WAL into the database and truncates it (PRAGMA
    // wal_checkpoint(TRUNCATE)); a reader holding the WAL makes it partial,
    // which is not an error.
    void checkpoint();

    // 1: the original design's tables; 2: unit, failure_kind, state,
    // simulated; 3: phase, detail; 4: incidents, actions' incident_id and
    // relapsed; 5: pauses; 6: metrics' reading details; 7: raised limits.
    static constexpr int kSchemaVersion = 7;
    const std::filesystem::path& path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace heal
