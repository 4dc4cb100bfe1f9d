#pragma once
// Limits healerd raised with scale_up, until they are put back. A raise is
// help through an incident, not a new limit: each keeps the unit's
// configured value, and expires once the unit has been stable for
// ScaleUpExpireSec= (no failure, no incident, no recovery since the raise or
// the last trouble), or at once after a restart that healed the unit. Kept
// in the store with the boot it belongs to, since runtime properties end
// with the boot.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recovery/executor.hpp"
#include "storage/store.hpp"

namespace heal {

struct UnitRaise {
    std::vector<LimitChange> changes;  // from: the configured value; to: healerd's
    TimePoint raised_at;               // the latest raise
    TimePoint stable_since;            // the latest raise, or the end of the unit's latest trouble
};

// Restoring MemoryMax or MemoryHigh while the unit uses this share of the
// configured value or more would squeeze it straight into reclaim or the
// OOM killer: the restore waits.
inline constexpr double kRestoreHeadroom = 0.9;

class RaiseBook {
public:
    // Loads this boot's raises (StoreError when they cannot be read) and
    // removes those of earlier boots, which ended with them.
    RaiseBook(Store& store, std::string boot_id);
    // How many raises of earlier boots were removed at load.
    std::size_t dropped_at_load() const { return dropped_; }

    // Adds scale_up's changes, stored first (StoreError leaves the book as
    // it was). A limit raised again keeps its configured value.
    void record(const std::string& unit, const std::vector<LimitChange>& changes, TimePoint now);
    // The unit is failing, in an incident or being recovered: its stable
    // time starts over.
    void unsettle(const std::string& unit, TimePoint now);
    const UnitRaise* find(const std::string& unit) const;
    // What stands raised on the unit (none when nothing does).
    std::vector<LimitChange> raised(const std::string& unit) const;
    // When the unit's raise expires if it stays stable; nullopt when it
    // has none or `expire` is 0 (kept until reboot).
    std::optional<TimePoint> expires_at(const std::string& unit, std::chrono::seconds expire) const;
    // Units whose raise has expired by `now`.
    std::vector<std::string> due(TimePoint now, std::chrono::seconds expire) const;
    // The raise is over (restored, or taken over by the operator): removed
    // from the store first.
    void forget(const std::string& unit);
    const std::map<std::string, UnitRaise>& all() const { return raises_; }

private:
    void save(const std::string& unit, const UnitRaise& raise);

    Store& store_;
    std::string boot_id_;
    std::map<std::string, UnitRaise> raises_;
    std::size_t dropped_ = 0;
};

// Why restoring `raise` now would squeeze the unit, whose memory in use is
// `memory_bytes` (unknown: nullopt): it is at kRestoreHeadroom or more of a
// configured MemoryMax or MemoryHigh that would come back. nullopt when the
// restore may go ahead.
std::optional<std::string> restore_blocked(const UnitRaise& raise, std::optional<std::uint64_t> memory_bytes);

}  // namespace heal
