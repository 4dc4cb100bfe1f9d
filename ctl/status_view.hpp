#pragma once
// The dashboard of the original design in the terminal: health, current
// values, sparklines of the recent samples, policy, model and last action.
// Shared by `status` and `watch`.
#include <optional>
#include <string>
#include <vector>

#include "api.hpp"
#include "bus_client.hpp"
#include "json_output.hpp"

namespace healctl {

inline constexpr std::size_t kSparklineSamples = 50;  // the original dashboard's chart length

struct StatusSnapshot {
    DaemonState state;
    std::vector<double> cpu_history;     // machine samples, oldest first
    std::vector<double> memory_history;
    std::optional<ActionEntry> last_action;
};

StatusSnapshot fetch_status(BusClient& client);
std::string render_status(const StatusSnapshot& snapshot);
Json status_json(const StatusSnapshot& snapshot);

}  // namespace healctl
