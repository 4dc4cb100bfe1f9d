#pragma once
// Maintenance pauses (healctl pause/resume, monit's unmonitor): a paused
// target is still sampled, judged and shown, but gets no action. Kept in the
// store, so a pause survives a restart of healerd; one with an end expires
// on its own.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.hpp"

namespace heal {

class PauseBook {
public:
    // Loads the stored pauses (StoreError when they cannot be read).
    explicit PauseBook(Store& store);

    // The target's pause, expired or not; nullptr when it has none.
    const PauseRecord* find(const std::string& unit) const;
    // Paused at `now`: a pause without an end, or one whose end is later.
    bool paused(const std::string& unit, TimePoint now) const;
    // Stores the pause first (StoreError leaves the book as it was), replacing
    // the target's earlier one.
    void pause(PauseRecord record);
    // Whether the target was paused; a store failure throws and keeps it paused.
    bool resume(const std::string& unit);
    // Removes the pauses that have ended by `now` and returns them.
    std::vector<PauseRecord> expire(TimePoint now);
    // Every pause, by unit.
    const std::map<std::string, PauseRecord>& all() const { return pauses_; }

private:
    Store& store_;
    std::map<std::string, PauseRecord> pauses_;
};

}  // namespace heal
