#include "detection/bucket_means.hpp"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

namespace heal {
namespace {

std::chrono::steady_clock::duration seconds(double value) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(value));
}

}  // namespace

BucketMeans::BucketMeans(double width_sec, double span_sec) : width_sec_(width_sec), span_sec_(span_sec) {
    if (!(std::isfinite(width_sec) && width_sec > 0.0))
        throw std::invalid_argument(fmt::format("bucket width must be a finite number > 0 (got {})", width_sec));
    if (!(std::isfinite(span_sec) && span_sec >= width_sec))
        throw std::invalid_argument(
            fmt::format("bucket span must be a finite number >= the width {} (got {})", width_sec, span_sec));
}

std::size_t BucketMeans::capacity() const {
    return static_cast<std::size_t>(std::floor(span_sec_ / width_sec_)) + 1;
}

std::optional<BucketMeans::Bucket> BucketMeans::add(SteadyTime time, double value) {
    if (!origin_) origin_ = time;
    if (time < *origin_ || (!buckets_.empty() && time < buckets_.back().start)) return std::nullopt;

    const auto index = std::floor(std::chrono::duration<double>(time - *origin_).count() / width_sec_);
    const SteadyTime start = *origin_ + seconds(index * width_sec_);
    std::optional<Bucket> closed;
    if (buckets_.empty() || start > buckets_.back().start) {
        if (!buckets_.empty()) closed = buckets_.back();
        buckets_.push_back(Bucket{start, time, 0.0, 0});
    }
    Bucket& open = buckets_.back();
    ++open.count;
    const double weight = 1.0 / static_cast<double>(open.count);
    open.mean += (value - open.mean) * weight;
    open.center += std::chrono::duration_cast<std::chrono::steady_clock::duration>((time - open.center) * weight);

    while (buckets_.size() > capacity() || time - buckets_.front().start > seconds(span_sec_)) buckets_.pop_front();
    return closed;
}

void BucketMeans::clear() {
    origin_.reset();
    buckets_.clear();
}

}  // namespace heal
