#include "storage/metric_writer.hpp"

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

}  // namespace heal
