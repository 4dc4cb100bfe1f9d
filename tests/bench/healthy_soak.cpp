#include "healthy_soak.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "trace_corpus.hpp"

namespace heal::bench {

HealthySoak::HealthySoak(const std::vector<TraceTick>& ticks, double grace_sec, double mean_block_sec,
                         std::uint64_t seed)
    : jump_chance_(1.0 / mean_block_sec) {
    if (!std::isfinite(mean_block_sec) || mean_block_sec < 1.0)
        throw TraceError(fmt::format("the mean block must be at least 1 s (got {})", mean_block_sec));
    std::vector<std::string> names{""};
    for (std::string& unit : units_of(ticks)) names.push_back(std::move(unit));
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string& name = names[i];
        Target target{.rows = {}, .continues = {}, .at = 0, .rng = Rng(derive_seed(seed, i))};
        std::optional<double> last_labelled;
        std::size_t previous_tick = 0;
        for (std::size_t k = 0; k < ticks.size(); ++k) {
            const auto row = std::find_if(ticks[k].rows.begin(), ticks[k].rows.end(),
                                          [&](const TraceRow& r) { return r.unit == name; });
            if (row == ticks[k].rows.end()) continue;
            if (!row->label.empty()) {
                last_labelled = row->t;
                continue;
            }
            if (last_labelled && row->t - *last_labelled <= grace_sec) continue;
            if (!target.rows.empty()) target.continues.push_back(previous_tick + 1 == k);
            target.rows.push_back(&*row);
            previous_tick = k;
        }
        if (target.rows.empty())
            throw TraceError(fmt::format("{} has no healthy tick to resample", name.empty() ? "the machine" : name));
        target.continues.push_back(false);
        target.at = target.rng.below(target.rows.size());
        targets_.push_back(std::move(target));
    }
}

std::size_t HealthySoak::matched_jump(Target& target) {
    const auto distance = [&](std::size_t row) {
        const auto now = static_cast<double>(target.rows[target.at]->memory_bytes);
        return std::abs(static_cast<double>(target.rows[row]->memory_bytes) - now);
    };
    std::size_t best = target.rng.below(target.rows.size());
    for (std::size_t draw = 1; draw < kJumpCandidates; ++draw) {
        const std::size_t candidate = target.rng.below(target.rows.size());
        if (distance(candidate) < distance(best)) best = candidate;
    }
    return best;
}

TraceTick HealthySoak::next() {
    TraceTick tick{.t = t_, .rows = {}};
    for (Target& target : targets_) {
        TraceRow row = *target.rows[target.at];
        row.t = t_;
        tick.rows.push_back(std::move(row));
        const bool jump = !target.continues[target.at] || target.rng.bernoulli(jump_chance_);
        target.at = jump ? matched_jump(target) : target.at + 1;
    }
    t_ += 1.0;
    return tick;
}

std::vector<std::size_t> HealthySoak::healthy_ticks() const {
    std::vector<std::size_t> counts;
    for (const Target& target : targets_) counts.push_back(target.rows.size());
    return counts;
}

}  // namespace heal::bench
