#pragma once
// Stored history judged again (healctl replay): the metric rows healerd
// stored, tick by tick, through a fresh Monitor with other detection
// settings, so an operator can see what new settings would have raised on
// last week before changing them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detection/monitor.hpp"
#include "detection/target_reading.hpp"
#include "storage/store.hpp"

namespace heal {

// The name a replayed reading gives a unit's stored probe verdict.
inline constexpr std::string_view kStoredProbeName = "health probes, as stored";

// A PSI reading from its stored or recorded avg10 percentages (the totals
// are not kept); none without `some`.
std::optional<Pressure> pressure_of(std::optional<double> some, std::optional<double> full = std::nullopt);

// A stored row back as the reading detection was given; nullopt for a row
// stored before schema 6 (no detail). A unit's probes come back as one probe,
// failing when any of them was: their attempts are not stored, so their
// thresholds are the ones healerd used then.
std::optional<TargetReading> reading_of(const MetricRecord& record);

// What happened to one target over the replay.
struct ReplayTally {
    std::string unit;                     // "" for the machine
    std::uint64_t ticks = 0;              // stored rows replayed
    std::uint32_t stored_failures = 0;    // times its stored status turned Failed
    std::uint32_t replayed_failures = 0;  // times it entered failure in the replay
    bool stored_failed = false;           // at its latest tick
    bool replayed_failed = false;
};

struct ReplayedFailure {
    TimePoint time;  // of the stored tick
    FailureEvent event;
};

class HistoryReplay {
public:
    // `gap`: two stored ticks further apart than this mean healerd did not
    // sample in between (it was stopped): its detectors started over then,
    // and the replay's do too. So does a clock that went backwards.
    HistoryReplay(DetectionOf detection, MachineShape machine, std::chrono::seconds gap);

    // One stored tick: rows sharing a timestamp. A unit first seen is
    // watched from then on; rows without detail are counted and skipped.
    void tick(std::span<const MetricRecord> rows);

    const std::vector<ReplayedFailure>& failures() const { return failures_; }
    // The machine first (when replayed), then units as first seen.
    const std::vector<ReplayTally>& tallies() const { return tallies_; }
    std::uint64_t rows_without_detail() const { return rows_without_detail_; }
    // Times the detectors started over at a gap (not counting the start).
    std::uint32_t restarts() const { return restarts_; }

private:
    ReplayTally& tally_of(const std::string& unit);

    DetectionOf detection_;
    MachineShape machine_;
    std::chrono::seconds gap_;
    std::vector<std::string> units_;  // watched so far, the machine aside
    Monitor monitor_;
    std::optional<TimePoint> last_time_;
    SteadyTime steady_{};  // the replay's clock: stored time, without gaps
    std::vector<ReplayedFailure> failures_;  // each signal that entered failure
    std::vector<ReplayTally> tallies_;
    std::uint64_t rows_without_detail_ = 0;
    std::uint32_t restarts_ = 0;
};

}  // namespace heal
