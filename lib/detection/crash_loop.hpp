#pragma once
// Signal "crash_loop": a unit that systemd keeps restarting. Its Restart=
// brings a crashing service back at once, so it is seldom seen down for
// InactiveForSec=; what shows the loop is systemd's own count of automatic
// restarts (NRestarts). Restarts= of them within WindowSec= is a failure,
// Kubernetes' CrashLoopBackOff in systemd's terms. A start by hand (an
// operator's restart, healerd's own) is not counted: systemd counts only
// the restarts Restart= made, and sets the count back to 0 on such a start,
// which begins a new life with none. The signal fires from a restart until
// WindowSec has passed without one: a unit that crashed three times is not
// known to be well again until then.
#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>

#include "detection/signal.hpp"

namespace heal {

struct CrashLoopConfig {
    std::size_t restarts = 3;   // Restarts=: automatic restarts within WindowSec that are a crash loop
    double window_sec = 300.0;  // WindowSec=

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const CrashLoopConfig&) const = default;
};

class CrashLoopDetector final : public SignalDetector {
public:
    explicit CrashLoopDetector(CrashLoopConfig config);  // validates it
    std::string_view name() const override { return "crash_loop"; }
    SignalVerdict observe(const SignalInput& input) override;
    std::unique_ptr<SignalDetector> clone() const override { return std::make_unique<CrashLoopDetector>(*this); }

private:
    CrashLoopConfig config_;
    std::optional<std::uint64_t> last_count_;
    std::deque<SteadyTime> restarts_;  // the newest, at most config_.restarts of them
};

}  // namespace heal
