#include "sampling/proc_sampler.hpp"

#include <algorithm>
#include <utility>

namespace heal {

ProcSampler::ProcSampler(std::vector<UnitSpec> units, const std::filesystem::path& root,
                         SteadyClock steady_now)
    : root_(root),
      layout_(CgroupLayout::detect(root)),
      steady_now_(steady_now ? std::move(steady_now)
                             : SteadyClock{[] { return std::chrono::steady_clock::now(); }}),
      system_(root) {
    watch(std::move(units));
}

void ProcSampler::watch(std::vector<UnitSpec> units) {
    std::vector<UnitSampler> next;
    next.reserve(units.size());
    for (auto& spec : units) {
        const auto kept = std::find_if(units_.begin(), units_.end(),
                                       [&](const UnitSampler& unit) { return unit.spec() == spec; });
        // Copied, not moved, so a throw below leaves the current set intact.
        if (kept != units_.end()) {
            next.push_back(*kept);
        } else {
            next.emplace_back(std::move(spec), layout_, root_);
        }
    }
    units_ = std::move(next);
}

Sample ProcSampler::sample() {
    Sample out;
    out.time = std::chrono::system_clock::now();
    out.system = system_.sample();
    const auto now = steady_now_();
    out.units.reserve(units_.size());
    for (auto& unit : units_) out.units.push_back(unit.sample(now));
    return out;
}

}  // namespace heal
