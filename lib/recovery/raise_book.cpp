#include "recovery/raise_book.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/limit_text.hpp"

namespace heal {

RaiseBook::RaiseBook(Store& store, std::string boot_id) : store_(store), boot_id_(std::move(boot_id)) {
    std::set<std::string> earlier_boots;
    for (const RaisedLimitRecord& record : store_.raised_limits()) {
        if (record.boot_id != boot_id_) {
            earlier_boots.insert(record.unit);
            ++dropped_;
            continue;
        }
        UnitRaise& raise = raises_[record.unit];
        raise.changes.push_back({record.property, record.configured, record.raised});
        raise.raised_at = std::max(raise.raised_at, record.raised_at);
        raise.stable_since = raise.raised_at;
    }
    for (const std::string& unit : earlier_boots) {
        if (const auto it = raises_.find(unit); it != raises_.end()) {
            save(unit, it->second);  // keeps this boot's rows only
        } else {
            store_.save_raised_limits(unit, {});
        }
    }
}

void RaiseBook::save(const std::string& unit, const UnitRaise& raise) {
    std::vector<RaisedLimitRecord> records;
    for (const LimitChange& change : raise.changes)
        records.push_back({unit, change.property, change.from, change.to, raise.raised_at, boot_id_});
    store_.save_raised_limits(unit, records);
}

void RaiseBook::record(const std::string& unit, const std::vector<LimitChange>& changes, TimePoint now) {
    if (changes.empty()) return;
    UnitRaise next = raises_.contains(unit) ? raises_.at(unit) : UnitRaise{};
    for (const LimitChange& change : changes) {
        const auto earlier = std::find_if(next.changes.begin(), next.changes.end(),
                                          [&](const LimitChange& c) { return c.property == change.property; });
        if (earlier == next.changes.end()) {
            next.changes.push_back(change);
        } else {
            earlier->to = change.to;  // the configured value stays the first raise's `from`
        }
    }
    next.raised_at = now;
    next.stable_since = now;
    save(unit, next);
    raises_.insert_or_assign(unit, std::move(next));
}

void RaiseBook::unsettle(const std::string& unit, TimePoint now) {
    if (const auto it = raises_.find(unit); it != raises_.end()) it->second.stable_since = std::max(it->second.stable_since, now);
}

const UnitRaise* RaiseBook::find(const std::string& unit) const {
    const auto it = raises_.find(unit);
    return it == raises_.end() ? nullptr : &it->second;
}

std::vector<LimitChange> RaiseBook::raised(const std::string& unit) const {
    const UnitRaise* raise = find(unit);
    return raise ? raise->changes : std::vector<LimitChange>{};
}

std::optional<TimePoint> RaiseBook::expires_at(const std::string& unit, std::chrono::seconds expire) const {
    const UnitRaise* raise = find(unit);
    if (!raise || expire.count() == 0) return std::nullopt;
    return raise->stable_since + expire;
}

std::vector<std::string> RaiseBook::due(TimePoint now, std::chrono::seconds expire) const {
    std::vector<std::string> units;
    for (const auto& [unit, raise] : raises_)
        if (const auto at = expires_at(unit, expire); at && now >= *at) units.push_back(unit);
    return units;
}

void RaiseBook::forget(const std::string& unit) {
    if (!raises_.contains(unit)) return;
    store_.save_raised_limits(unit, {});
    raises_.erase(unit);
}

std::optional<std::string> restore_blocked(const UnitRaise& raise, std::optional<std::uint64_t> memory_bytes) {
    for (const LimitChange& change : raise.changes) {
        if (change.property != "MemoryMax" && change.property != "MemoryHigh") continue;
        if (!memory_bytes) return fmt::format("its memory in use is unknown, and {} would come back", change.property);
        const double share = static_cast<double>(*memory_bytes) / static_cast<double>(std::max<std::uint64_t>(change.from, 1));
        if (share >= kRestoreHeadroom)
            return fmt::format("it uses {} of the {} {} it would go back to", format_bytes(*memory_bytes),
                               format_bytes(change.from), change.property);
    }
    return std::nullopt;
}

}  // namespace heal
