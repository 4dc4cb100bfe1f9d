#include <catch2/catch.hpp>

#include <algorithm>

#include "rl/observation.hpp"
#include "observed.hpp"

using namespace heal;
using heal::test::observed;

TEST_CASE("the incident features follow the first seven, capped and one-hot", "[rl][observation]") {
    Observation obs = observed(50, 25, 2);
    const ObservationVector before = encode(obs);
    for (int i = 7; i < kObservationSize; ++i) CHECK(before[static_cast<std::size_t>(i)] == 0.0f);

    obs.attempts = 2;
    obs.last_action = Action::rollback;
    obs.last_relapsed = true;
    obs.seconds_open = 150.0;
    obs.relapses = 1;
    const ObservationVector v = encode(obs);
    CHECK(std::equal(v.begin(), v.begin() + 7, before.begin()));
    CHECK(v[7] == Approx(0.4f));
    CHECK(v[8] == 0.0f);   // restart
    CHECK(v[9] == 0.0f);   // scale_up
    CHECK(v[10] == 1.0f);  // rollback
    CHECK(v[11] == 0.0f);  // do_nothing
    CHECK(v[12] == 1.0f);
    CHECK(v[13] == Approx(0.25f));
    CHECK(v[14] == Approx(0.2f));

    obs.attempts = 9;
    obs.seconds_open = 5000.0;
    obs.relapses = 7;
    obs.last_action = Action::do_nothing;
    const ObservationVector capped = encode(obs);
    CHECK(capped[7] == 1.0f);
    CHECK(capped[11] == 1.0f);
    CHECK(capped[10] == 0.0f);
    CHECK(capped[13] == 1.0f);
    CHECK(capped[14] == 1.0f);
}
