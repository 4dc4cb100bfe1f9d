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
    std::string version;
};

struct MetricPoint {
    Microseconds timestamp = 0;
    double cpu = 0.0;
    double memory = 0.0;
    std::string status;  // "Healthy" / "Failed"
    std::string unit;    // "" for the whole machine
};

struct ActionEntry {
    Microseconds timestamp = 0;
    std::string action;
    std::string result;  // "recovered" / "failed"
    double reward = 0.0;
    std::optional<double> recovery_time;  // seconds; absent when it failed
    std::string unit;
    std::string failure_kind;             // "" when unknown
};

struct SummaryStats {
    std::uint64_t total_actions = 0;
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    double success_rate = 0.0;  // percent
    double avg_mttr = 0.0;      // seconds
};

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
