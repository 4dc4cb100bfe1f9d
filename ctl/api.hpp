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

struct PolicyView {
    std::string name;
    std::vector<std::pair<std::string, double>> probabilities;  // action -> probability
};

// The action healerd would run now: the most probable one ("" if none).
inline std::string most_probable_action(const PolicyView& view) {
    const std::pair<std::string, double>* best = nullptr;
    for (const auto& entry : view.probabilities)
        if (!best || entry.second > best->second) best = &entry;
    return best ? best->first : std::string();
}

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
