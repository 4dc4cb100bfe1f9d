#pragma once
// The verdict of one health probe over its stream of attempts, by
// Kubernetes' rule: `failure_threshold` failures in a row make it failing,
// `success_threshold` successes in a row make it healthy. Until either
// happens it is unknown, so one early failure is not yet a verdict.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace heal {

// How one attempt ended.
struct ProbeResult {
    bool success = false;
    std::chrono::microseconds latency{0};  // from its start to its end
    std::string error;                     // why it failed: "connection refused", "timed out", ...

    bool operator==(const ProbeResult&) const = default;
};

enum class ProbeHealth { unknown, healthy, failing };

std::string_view to_string(ProbeHealth health);

class ProbeState {
public:
    // Thresholds of at least 1 (std::invalid_argument otherwise).
    ProbeState(std::uint32_t failure_threshold, std::uint32_t success_threshold);

    // Counts one attempt; true when it changed health().
    bool record(ProbeResult result);

    ProbeHealth health() const { return health_; }
    std::uint32_t consecutive_failures() const { return failures_; }
    std::uint32_t consecutive_successes() const { return successes_; }
    // The latest attempt (its latency and error); nullopt before the first.
    const std::optional<ProbeResult>& last() const { return last_; }

    // For an operator, `subject` being describe(spec): "http probe
    // http://127.0.0.1:8080/healthz of web.service failed 3 times in a row
    // (last: connection refused after 0.2 ms)".
    std::string sentence(std::string_view subject) const;

private:
    std::uint32_t failure_threshold_;
    std::uint32_t success_threshold_;
    ProbeHealth health_ = ProbeHealth::unknown;
    std::uint32_t failures_ = 0;
    std::uint32_t successes_ = 0;
    std::optional<ProbeResult> last_;
};

}  // namespace heal
