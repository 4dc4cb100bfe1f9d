#pragma once
// Where a policy model comes from, saved in its file (model_file.hpp) and
// shown by `healctl policy`: a fleet ships one model to many hosts, and an
// operator must be able to tell what it learned from.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rl/trainer.hpp"

namespace heal {

struct Provenance {
    std::string trained_by;          // "healerd" (its own history) or "healctl train --from"
    std::vector<std::string> hosts;  // whose incidents it learned from
    std::int64_t incidents = 0;
    std::uint32_t episodes = 0;
    std::uint64_t seed = 0;
};

// The provenance as a JSON object, with "created" (now, ISO 8601 UTC) and
// what the training's history says: "attempts" (the outcomes) and
// "calibration", per failure kind and action that has any, the attempts and
// the calibrated chance of a durable heal.
std::string provenance_json(const Provenance& provenance, std::span<const Outcome> history);

// One line for people, e.g. "trained by healctl train --from on
// 2026-12-04T10:00:00Z from 3 hosts (a, b, c): 40 incidents, 75 attempts";
// nullopt for text that is not such an object.
std::optional<std::string> describe_provenance(const std::string& json);

// This machine's host name; "localhost" when it has none.
std::string local_host_name();

}  // namespace heal
