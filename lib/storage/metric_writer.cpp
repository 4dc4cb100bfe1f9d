#include "storage/metric_writer.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace heal {

void MetricWriter::add(std::span<const MetricRecord> records, Clock::time_point now) {
    for (const MetricRecord& record : records) validate_metric(record);
    if (pending_.empty()) oldest_ = now;
    pending_.insert(pending_.end(), records.begin(), records.end());
    if (now - oldest_ >= interval_) flush();
}

void MetricWriter::flush() {
    if (pending_.empty()) return;
    std::vector<MetricRecord> batch;
    batch.swap(pending_);  // dropped whether or not the write works
    try {
        store_.add_metrics(batch);
    } catch (const StoreError&) {
        failing_ = true;
        lost_ += batch.size();
        throw;
    }
    if (failing_) {
        recovered_ = lost_;
        failing_ = false;
        lost_ = 0;
    }
}

std::optional<std::size_t> MetricWriter::take_recovery() { return std::exchange(recovered_, std::nullopt); }

std::vector<MetricRecord> MetricWriter::recent(std::int64_t limit) const {
    // A negative limit reaches the store, which refuses it.
    const auto queued = static_cast<std::ptrdiff_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(pending_.size()), std::max<std::int64_t>(limit, 0)));
    std::vector<MetricRecord> rows(pending_.rbegin(), pending_.rbegin() + queued);
    std::vector<MetricRecord> stored = store_.recent_metrics(limit - queued);
    rows.insert(rows.end(), std::make_move_iterator(stored.begin()), std::make_move_iterator(stored.end()));
    return rows;
}

}  // namespace heal
