#pragma once
// Holds a few ticks of samples and writes them to the store together: one
// transaction every `interval` instead of one a tick, which is most of what a
// tick costs otherwise (a WAL commit). Samples not yet written are lost if
// the process dies; recoveries are never held back (the store writes them at
// once).
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "storage/store.hpp"

namespace heal {

class MetricWriter {
public:
    using Clock = std::chrono::steady_clock;

    // interval 0 writes every add() at once.
    MetricWriter(Store& store, std::chrono::milliseconds interval) : store_(store), interval_(interval) {}

    // Queues one tick's rows; writes everything queued once the oldest has
    // waited `interval`. Throws like Store::add_metrics (invalid rows before
    // anything is queued); after a StoreError the queued rows are dropped, so
    // a broken database cannot make the queue grow without bound.
    void add(std::span<const MetricRecord> records, Clock::time_point now);
    // Writes everything queued now (before retention or a stop).
    void flush();
    // The newest `limit` samples, newest first: the queued ones (the latest
    // ticks), then the store's. Writes nothing, so reading does not defeat
    // the batching. Throws like Store::recent_metrics.
    std::vector<MetricRecord> recent(std::int64_t limit) const;

    void set_interval(std::chrono::milliseconds interval) { interval_ = interval; }
    std::size_t pending() const { return pending_.size(); }

    // Since a write failed, and until one commits again.
    bool failing() const { return failing_; }
    // Once, after the first write that commits following a failure: the
    // samples lost in between. Only a commit counts: queueing is not storing.
    std::optional<std::size_t> take_recovery();

private:
    Store& store_;
    std::chrono::milliseconds interval_;
    std::vector<MetricRecord> pending_;
    Clock::time_point oldest_{};
    bool failing_ = false;
    std::size_t lost_ = 0;                   // samples dropped since failing_ began
    std::optional<std::size_t> recovered_;   // lost_ of the failure just ended
};

}  // namespace heal
