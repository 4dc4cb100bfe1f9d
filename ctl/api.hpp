#pragma once
// healerd's D-Bus data (docs/dbus-api.md) as plain values, free of sd-bus types.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace healctl {

using Microseconds = std::uint64_t;  // since the Unix epoch, UTC

// The read-only properties of org.healerd.Healer1.
// A maintenance pause (healctl pause).
struct PauseEntry {
    std::string unit;          // "" for the machine
    Microseconds until = 0;    // since the epoch; 0: until resumed
    std::uint32_t paused_by = 0;
};

// A limit scale_up raised and healerd has not put back yet.
struct RaisedLimitEntry {
    std::string unit;
    std::string property;          // systemd's name (CPUQuotaPerSecUSec for CPUQuota)
    std::uint64_t configured = 0;
    std::uint64_t raised = 0;
    Microseconds raised_at = 0;
    // When it goes back if the unit stays stable: 0 while it is not stable,
    // kUntilReboot with ScaleUpExpireSec=0.
    std::uint64_t expires = 0;
    static constexpr std::uint64_t kUntilReboot = ~std::uint64_t{0};
};

// The limits a watched unit is judged against now (kNoLimit: none).
struct UnitLimitsEntry {
    std::string unit;
    std::uint64_t memory_max = kNoLimit;
    std::uint64_t memory_high = kNoLimit;
    std::uint64_t cpu_quota_per_sec_usec = kNoLimit;
    static constexpr std::uint64_t kNoLimit = ~std::uint64_t{0};
};

struct DaemonState {
    std::string health;          // "healthy" / "failed"
    double cpu = 0.0;
    double memory = 0.0;
    std::uint32_t failure_count = 0;
    std::string policy;          // "ppo" / "heuristic"
    bool model_loaded = false;
    std::string training_state;  // "idle" / "running"
    std::string backend;         // "systemd" / "simulated"
    bool auto_recover = false;
    std::vector<std::string> watched_units;
    std::vector<std::pair<std::string, std::string>> unit_states;  // (unit, state), in Units= order
    std::vector<PauseEntry> paused;
    std::vector<RaisedLimitEntry> raised_limits;
    std::vector<UnitLimitsEntry> unit_limits;
    std::string version;
};

struct MetricPoint {
    std::uint64_t id = 0;  // the row's, from the List methods only
    Microseconds timestamp = 0;
    double cpu = 0.0;
    double memory = 0.0;
    std::string status;  // "Healthy" / "Failed"
    std::string unit;    // "" for the whole machine
};

struct ActionEntry {
    std::uint64_t id = 0;  // the row's, from the List methods only
    Microseconds timestamp = 0;
    std::string action;
    std::string result;  // "recovered" / "failed"
    double reward = 0.0;
    std::optional<double> recovery_time;  // seconds; absent when it failed
    std::string unit;
    std::string failure_kind;             // "" when unknown
    std::optional<std::uint64_t> incident_id;  // from ListActions only; absent when none
};

struct SummaryStats {
    // Finished attempts; a relapsed heal is a failure.
    std::uint64_t total_actions = 0;
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    double success_rate = 0.0;        // percent
    std::optional<double> avg_mttr;   // seconds; absent without a success
    // Incidents, open ones included.
    std::uint64_t incidents = 0;
    std::uint64_t resolved = 0;
    std::uint64_t given_up = 0;
    std::uint64_t relapses = 0;
    std::optional<double> attempts_per_incident;  // over resolved and given-up ones
    std::optional<double> mttr;                   // seconds to durable health; absent without a resolved one
    std::uint64_t self_resolved = 0;              // passed before any action: not in the figures above
};

// Percent of the decided incidents (resolved or given up) that were
// resolved; absent before any was decided.
inline std::optional<double> resolved_rate(const SummaryStats& stats) {
    const std::uint64_t decided = stats.resolved + stats.given_up;
    if (decided == 0) return std::nullopt;
    return 100.0 * static_cast<double>(stats.resolved) / static_cast<double>(decided);
}

// Which rows ListMetrics, ListActions and ListIncidents read.
struct HistoryFilter {
    std::optional<Microseconds> since;
    std::optional<Microseconds> until;
    std::optional<std::string> unit;  // "" for the machine
    bool newest_first = false;
};

struct IncidentEntry {
    std::uint64_t id = 0;
    std::string unit;          // "" for the whole machine
    std::string failure_kind;  // "" when unknown
    std::string outcome;       // "open", "resolved", "given_up", "interrupted", "dry_run"
    Microseconds opened = 0;
    std::optional<Microseconds> closed;         // absent while open
    std::optional<Microseconds> healthy_since;  // start of durable health
    std::uint32_t attempts = 0;
    std::uint32_t relapses = 0;
    std::string detail;
};

// Seconds from opening to durable health; absent when not reached.
inline std::optional<double> time_to_recover(const IncidentEntry& entry) {
    if (!entry.healthy_since) return std::nullopt;
    return (static_cast<double>(*entry.healthy_since) - static_cast<double>(entry.opened)) / 1e6;
}

struct DetectVerdict {
    std::string metric;
    double value = 0.0;
    double threshold = 0.0;
    bool anomalous = false;
    std::string reason;
};

struct DetectResult {
    bool detected = false;
    std::string status;
    std::vector<DetectVerdict> verdicts;
};

// Values that replace the measured ones in Detect.
struct DetectOverrides {
    std::optional<double> cpu;
    std::optional<double> memory;
};

// What Recover would do on a target now (GetDecision).
struct DecisionView {
    struct Choice {
        std::string action;
        double probability = 0.0;
        bool candidate = false;
        std::string excluded;  // why not, when not a candidate
    };
    std::string policy;
    std::string target;    // "" = the machine
    std::string action;    // "" = nothing left to try: the incident would be given up
    std::string why_none;
    std::string incident;  // none, waiting, attempting, stabilizing, given_up
    std::uint32_t attempts = 0;
    std::uint32_t relapses = 0;
    std::optional<double> next_attempt_in;  // seconds
    std::vector<Choice> actions;
    std::string shadow;  // Mode=shadow: the learned policy's choice
};

struct RecoverResult {
    std::string action;
    std::string result;
    double reward = 0.0;
    std::optional<double> recovery_time;
    std::string unit;
    std::string detail;
};

struct TrainingProgress {
    std::uint32_t episode = 0;
    std::uint32_t episodes = 0;
    double mean_reward = 0.0;
};

struct TrainingFinished {
    bool success = false;
    std::uint32_t episodes = 0;
    double mean_reward = 0.0;
    std::string message;
};

}  // namespace healctl
