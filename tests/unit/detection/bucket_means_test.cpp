#include "detection/bucket_means.hpp"

#include <catch2/catch.hpp>

#include "signal_series.hpp"

using heal::BucketMeans;
using heal::test::at;

TEST_CASE("bucket means: values are averaged per bucket and only the last span is kept") {
    BucketMeans means{10.0, 30.0};
    CHECK(means.capacity() == 4);
    CHECK_FALSE(means.add(at(100), 1.0));  // buckets start at the first value
    CHECK_FALSE(means.add(at(105), 3.0));
    const auto closed = means.add(at(110), 10.0);
    REQUIRE(closed);
    CHECK(closed->start == at(100));
    CHECK(closed->center == at(102.5));
    CHECK(closed->mean == 2.0);
    CHECK(closed->count == 2);
    CHECK(means.closed_count() == 1);

    means.add(at(125), 20.0);  // skips the bucket at 120: none is made for it
    REQUIRE(means.buckets().size() == 3);
    CHECK(means.buckets().back().start == at(120));

    means.add(at(141), 30.0);  // the buckets of 100 and 110 started more than 30 s before
    REQUIRE(means.buckets().size() == 2);
    CHECK(means.buckets().front().start == at(120));
    CHECK(means.buckets().back().mean == 30.0);

    CHECK_FALSE(means.add(at(139), 99.0));  // time going backwards is ignored
    CHECK(means.buckets().back().mean == 30.0);

    means.clear();
    CHECK(means.buckets().empty());
    means.add(at(200.5), 1.0);
    CHECK(means.buckets().front().start == at(200.5));

    CHECK_THROWS_AS(BucketMeans(0.0, 10.0), std::invalid_argument);
    CHECK_THROWS_AS(BucketMeans(10.0, 5.0), std::invalid_argument);
}
