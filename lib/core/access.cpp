#include "core/access.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heal {

bool may_change_state(const Caller& caller, const AccessRule& rule) {
    if (caller.uid == 0 || caller.uid == rule.daemon_uid) return true;
    return rule.admin_group &&
           std::find(caller.groups.begin(), caller.groups.end(), *rule.admin_group) != caller.groups.end();
}

ReadBudget::ReadBudget(double capacity, double refill_per_second) : capacity_(capacity), rate_(refill_per_second) {
    if (!(capacity > 0.0) || !(refill_per_second > 0.0))
        throw std::invalid_argument("a read budget needs a positive capacity and refill rate");
}

double ReadBudget::level(const Bucket& bucket, Clock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    return std::min(capacity_, bucket.tokens + std::max(0.0, elapsed) * rate_);
}

void ReadBudget::prune(Clock::time_point now) {
    std::erase_if(buckets_, [&](const auto& entry) { return level(entry.second, now) >= capacity_; });
}

ReadBudget::Verdict ReadBudget::charge(uid_t uid, double cost, Clock::time_point now) {
    cost = std::min(cost, capacity_);
    auto found = buckets_.find(uid);
    if (found == buckets_.end()) {
        if (buckets_.size() >= kMaxBuckets) prune(now);
        found = buckets_.emplace(uid, Bucket{capacity_, now, false}).first;
    }
    Bucket& bucket = found->second;
    bucket.tokens = level(bucket, now);
    bucket.updated = now;
    if (bucket.tokens >= capacity_) bucket.refused = false;  // quiet long enough: a new spell
    if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return {};
    }
    const auto wait = static_cast<long>(std::ceil((cost - bucket.tokens) / rate_));
    const bool newly = !bucket.refused;
    bucket.refused = true;
    return Verdict{false, std::chrono::seconds(std::max(1L, wait)), newly};
}

}  // namespace heal
