#include "recovery/pause_book.hpp"

namespace heal {

PauseBook::PauseBook(Store& store) : store_(store) {
    for (PauseRecord& record : store_.pauses()) pauses_.emplace(record.unit, std::move(record));
}

const PauseRecord* PauseBook::find(const std::string& unit) const {
    const auto it = pauses_.find(unit);
    return it == pauses_.end() ? nullptr : &it->second;
}

bool PauseBook::paused(const std::string& unit, TimePoint now) const {
    const PauseRecord* pause = find(unit);
    return pause && (!pause->until || now < *pause->until);
}

void PauseBook::pause(PauseRecord record) {
    store_.save_pause(record);
    pauses_.insert_or_assign(record.unit, std::move(record));
}

bool PauseBook::resume(const std::string& unit) {
    if (!pauses_.contains(unit)) return false;
    store_.remove_pause(unit);
    pauses_.erase(unit);
    return true;
}

std::vector<PauseRecord> PauseBook::expire(TimePoint now) {
    std::vector<PauseRecord> ended;
    for (auto it = pauses_.begin(); it != pauses_.end();) {
        const PauseRecord& pause = it->second;
        if (!pause.until || now < *pause.until) {
            ++it;
            continue;
        }
        store_.remove_pause(pause.unit);
        ended.push_back(pause);
        it = pauses_.erase(it);
    }
    return ended;
}

}  // namespace heal
