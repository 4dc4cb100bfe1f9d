#include "core/access.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace heal;
using namespace std::chrono_literals;

TEST_CASE("only root, healerd's own uid and the admin group may change state", "[core]") {
    const AccessRule system{0, gid_t{990}};
    CHECK(may_change_state(Caller{0, {}}, system));
    CHECK(may_change_state(Caller{1000, {1000, 990}}, system));  // a supplementary group
    CHECK(may_change_state(Caller{1000, {990}}, system));        // the primary group
    CHECK_FALSE(may_change_state(Caller{1000, {1000, 27}}, system));
    CHECK_FALSE(may_change_state(Caller{65534, {}}, system));

    const AccessRule no_group{0, std::nullopt};
    CHECK_FALSE(may_change_state(Caller{1000, {990}}, no_group));
    CHECK(may_change_state(Caller{0, {}}, no_group));

    // healerd --user: the user who runs it may, others may not.
    const AccessRule user{1000, std::nullopt};
    CHECK(may_change_state(Caller{1000, {}}, user));
    CHECK_FALSE(may_change_state(Caller{1001, {1001}}, user));
}

TEST_CASE("read budget grants a burst, then refills at its rate, per uid", "[core]") {
    const ReadBudget::Clock::time_point t0{};
    ReadBudget budget(1000, 100);

    CHECK(budget.charge(1000, 600, t0).granted);
    CHECK(budget.charge(1000, 400, t0).granted);
    const ReadBudget::Verdict refused = budget.charge(1000, 250, t0);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_after == 3s);  // 250 tokens at 100 a second, rounded up
    CHECK(refused.newly_refused);
    CHECK_FALSE(budget.charge(1000, 250, t0 + 1s).newly_refused);  // still the same spell

    CHECK(budget.charge(1001, 1000, t0).granted);  // another uid has its own bucket

    CHECK(budget.charge(1000, 300, t0 + 3s).granted);  // 3 s of refill: the refusals took nothing
    const ReadBudget::Verdict after_grant = budget.charge(1000, 1, t0 + 3s);
    CHECK_FALSE(after_grant.granted);
    CHECK(after_grant.retry_after == 1s);  // never "retry in 0 s"
    // A grant that did not fill the bucket keeps the spell: one refusal to report.
    CHECK_FALSE(after_grant.newly_refused);
    CHECK(budget.charge(1000, 1000, t0 + 1h).granted);  // refills up to capacity, not beyond
    const ReadBudget::Verdict again = budget.charge(1000, 1, t0 + 1h);
    CHECK_FALSE(again.granted);
    CHECK(again.newly_refused);  // the bucket was full in between: a new spell

    // A cost beyond the capacity is charged as the capacity, so it can be granted.
    ReadBudget small(10, 1);
    CHECK(small.charge(7, 50, t0).granted);

    CHECK_THROWS_AS(ReadBudget(0, 1), std::invalid_argument);
    CHECK_THROWS_AS(ReadBudget(1, 0), std::invalid_argument);
}

TEST_CASE("read budget forgets full buckets once it tracks many uids", "[core]") {
    const ReadBudget::Clock::time_point t0{};
    ReadBudget budget(10, 10);
    for (uid_t uid = 0; uid < ReadBudget::kMaxBuckets; ++uid) REQUIRE(budget.charge(uid, 10, t0).granted);
    // Uid 0 is dry now; after pruning at t0 + 2s everyone is full again, and
    // a forgotten bucket is a full one: uid 0 may read again.
    CHECK_FALSE(budget.charge(0, 10, t0).granted);
    CHECK(budget.charge(ReadBudget::kMaxBuckets, 10, t0 + 2s).granted);
    CHECK(budget.charge(0, 10, t0 + 2s).granted);
}
