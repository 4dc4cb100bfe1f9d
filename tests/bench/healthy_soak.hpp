#pragma once
// A long healthy stream resampled from a corpus' healthy ticks, to measure a
// false-alarm rate over more target-time than a recording holds: each target
// (the machine and every unit) follows its own stationary bootstrap (Politis
// and Romano) over its healthy ticks: it plays consecutive healthy ticks of
// its own, and jumps with probability 1 / mean_block_sec at each tick, or
// when its run of healthy ticks ends. A jump is matched (Carlstein et al.):
// to the one of kJumpCandidates random healthy ticks whose memory is nearest
// the tick just played, since an unmatched join is a step in memory no
// service made (58 MiB up in a second, in the middle of a GC's rise, reads
// as a leak). So a target stays near the memory levels it holds, as a
// service does, and which of its levels a soak visits depends on the seed.
// Runs are the corpus' real behaviour; rare real events (a daily job, a
// deploy) are not in it, because the corpus does not hold them.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rl/random.hpp"
#include "trace_corpus.hpp"

namespace heal::bench {

class HealthySoak {
public:
    // A target's tick is healthy when its row is unlabelled and no window of
    // its own ended within `grace_sec` before (a fault's aftermath is scored
    // with its window). Keeps pointers into `ticks`, which must outlive it.
    // Throws TraceError when a target has no healthy tick or
    // `mean_block_sec` < 1.
    HealthySoak(const std::vector<TraceTick>& ticks, double grace_sec, double mean_block_sec, std::uint64_t seed);

    // The next tick, at t = 0, 1, 2, ... s: the machine's row first, then the
    // units in the corpus' order, each a copy of one of its healthy rows.
    TraceTick next();

    // Healthy ticks of each target, the machine's first.
    std::vector<std::size_t> healthy_ticks() const;

    static constexpr std::size_t kJumpCandidates = 16;

private:
    struct Target {
        std::vector<const TraceRow*> rows;  // its healthy rows, in time order
        std::vector<bool> continues;        // rows[i + 1] is the tick after rows[i]
        std::size_t at = 0;
        Rng rng;
    };
    static std::size_t matched_jump(Target& target);

    std::vector<Target> targets_;
    double jump_chance_;
    double t_ = 0.0;
};

}  // namespace heal::bench
