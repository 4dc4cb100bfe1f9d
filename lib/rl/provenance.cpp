#include "rl/provenance.hpp"

#include <unistd.h>

#include <array>
#include <ctime>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "rl/incident_env.hpp"

namespace heal {

namespace {
using Json = nlohmann::ordered_json;
constexpr std::size_t kHostsNamed = 5;  // in the one-line description

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}
}  // namespace

std::string local_host_name() {
    std::array<char, 256> name{};
    if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
    return name.data();
}

std::string provenance_json(const Provenance& provenance, std::span<const Outcome> history) {
    std::array<std::array<int, kActionCount>, kFailureKindCount> attempts{};
    for (const Outcome& outcome : history)
        ++attempts[static_cast<std::size_t>(outcome.kind)][static_cast<std::size_t>(outcome.action)];
    const IncidentModel calibrated = IncidentModel::calibrated(history);
    Json calibration = Json::object();
    for (int k = 0; k < kFailureKindCount; ++k) {
        const auto kind = static_cast<FailureKind>(k);
        for (const Action action : kAllActions) {
            const int count = attempts[static_cast<std::size_t>(k)][static_cast<std::size_t>(action)];
            if (count == 0) continue;
            const double durable = calibrated.effect(kind, action).probability[static_cast<std::size_t>(AttemptResult::durable)];
            calibration[std::string(to_string(kind))][std::string(to_string(action))] = {{"attempts", count},
                                                                                        {"durable", durable}};
        }
    }
    const Json document = {{"trained_by", provenance.trained_by},
                           {"hosts", provenance.hosts},
                           {"incidents", provenance.incidents},
                           {"attempts", history.size()},
                           {"created", utc_now()},
                           {"episodes", provenance.episodes},
                           {"seed", provenance.seed},
                           {"calibration", calibration}};
    return document.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::string> describe_provenance(const std::string& json) {
    const Json document = Json::parse(json, nullptr, false);
    if (!document.is_object()) return std::nullopt;
    try {
        const auto hosts = document.value("hosts", std::vector<std::string>{});
        std::string named = fmt::format("{}", fmt::join(hosts.begin(), hosts.begin() + static_cast<std::ptrdiff_t>(
                                                                           std::min(hosts.size(), kHostsNamed)),
                                                        ", "));
        if (hosts.size() > kHostsNamed) named += ", …";
        const auto counted = [](std::int64_t n, std::string_view what) {
            return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
        };
        return fmt::format("trained by {} on {} from {} ({}): {}, {}", document.value("trained_by", "?"),
                           document.value("created", "?"),
                           counted(static_cast<std::int64_t>(hosts.size()), "host"), named,
                           counted(document.value("incidents", std::int64_t{0}), "incident"),
                           counted(document.value("attempts", std::int64_t{0}), "attempt"));
    } catch (const Json::exception&) {
        return std::nullopt;
    }
}

}  // namespace heal
