#include "storage/metric_writer.hpp"

#include <algorithm>
#include <iterator>

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
    store_.add_metrics(batch);
}

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
