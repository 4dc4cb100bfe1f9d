#pragma once
// Who may change healerd's state, and how much history a caller may read.
// healerd decides both itself: the D-Bus policy is a first gate, and a
// missing or mis-installed policy file must not open the mutating methods.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <vector>

namespace heal {

// A D-Bus caller as the bus reports it.
struct Caller {
    uid_t uid = 0;              // effective uid
    std::vector<gid_t> groups;  // primary and supplementary gids, as far as the bus knows them
};

struct AccessRule {
    uid_t daemon_uid = 0;              // healerd's own uid (root, or the user with --user)
    std::optional<gid_t> admin_group;  // the healerd group; absent when it does not exist
};

// Root, healerd's own uid and members of the admin group may change state.
bool may_change_state(const Caller& caller, const AccessRule& rule);

// A token bucket per caller uid: `capacity` tokens, refilled at
// `refill_per_second`. Keyed by uid, not by connection, since a caller can
// open connections at will.
class ReadBudget {
public:
    using Clock = std::chrono::steady_clock;

    struct Verdict {
        bool granted = true;
        std::chrono::seconds retry_after{0};  // when refused: the wait until `cost` would be granted
        bool newly_refused = false;           // the first refusal since this caller's bucket was last full
    };

    // Throws std::invalid_argument unless both are positive.
    ReadBudget(double capacity, double refill_per_second);

    // Takes `cost` tokens (at most `capacity`) from `uid`'s bucket, or refuses and takes none.
    Verdict charge(uid_t uid, double cost, Clock::time_point now);

    // Buckets kept at most; beyond that, full ones (the same as absent) are dropped.
    static constexpr std::size_t kMaxBuckets = 1024;

private:
    struct Bucket {
        double tokens = 0.0;
        Clock::time_point updated;
        bool refused = false;
    };
    double level(const Bucket& bucket, Clock::time_point now) const;
    void prune(Clock::time_point now);

    double capacity_;
    double rate_;
    std::map<uid_t, Bucket> buckets_;
};

}  // namespace heal
