#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "rl/provenance.hpp"

using namespace heal;

TEST_CASE("provenance: the model's sources and its calibration, as JSON and as one line") {
    const std::vector<Outcome> history{
        {Action::restart, FailureKind::crash, true, 2.0, false},
        {Action::restart, FailureKind::crash, true, 3.0, true},
        {Action::rollback, FailureKind::bad_deploy, false, 0.0, false},
    };
    const std::string json = provenance_json({"healctl train --from", {"web-1", "web-2"}, 2, 50, 7}, history);
    const auto document = nlohmann::json::parse(json);
    CHECK(document["trained_by"] == "healctl train --from");
    CHECK(document["hosts"] == nlohmann::json::array({"web-1", "web-2"}));
    CHECK(document["incidents"] == 2);
    CHECK(document["attempts"] == 3);
    CHECK(document["episodes"] == 50);
    CHECK(document["seed"] == 7);
    CHECK(document["created"].get<std::string>().size() == 20);  // 2026-12-04T10:00:00Z
    CHECK(document["calibration"]["crash"]["restart"]["attempts"] == 2);
    const double durable = document["calibration"]["crash"]["restart"]["durable"];
    CHECK(durable > 0.0);
    CHECK(durable < 1.0);
    CHECK(document["calibration"]["bad_deploy"]["rollback"]["attempts"] == 1);
    CHECK_FALSE(document["calibration"]["crash"].contains("scale_up"));  // no attempt, no entry

    const auto line = describe_provenance(json);
    REQUIRE(line);
    CHECK_THAT(*line, Catch::StartsWith("trained by healctl train --from on ") &&
                          Catch::EndsWith(" from 2 hosts (web-1, web-2): 2 incidents, 3 attempts"));
    CHECK_FALSE(describe_provenance("not json"));
    CHECK_FALSE(describe_provenance("[1, 2]"));
    CHECK_FALSE(describe_provenance(R"({"hosts": 3})"));
}
