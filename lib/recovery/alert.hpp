#pragma once
// The operator's alert when healerd gives up on an incident: their own
// template unit (OnGiveUp=NAME@.service) started as NAME@INCIDENT_ID.service,
// the incident's details in its environment, as systemd's OnFailure= starts a
// unit with the failed one's details in $MONITOR_*. systemd takes no
// environment with StartUnit, so the details go to a file the template reads:
//   EnvironmentFile=%t/healerd/alert-%i.env
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/action.hpp"
#include "recovery/executor.hpp"

namespace heal {

struct Alert {
    std::string unit;      // "healerd-alert@42.service"
    std::string instance;  // "42"
    std::vector<std::pair<std::string, std::string>> environment;  // HEALERD_UNIT=nginx.service, ...
};

// What the alert says of a given-up incident.
struct GivenUp {
    std::int64_t incident_id = 0;  // 0 when the store failed: the instance is then "unstored"
    std::string unit;              // "" for the machine
    FailureKind failure_kind = FailureKind::transient;
    std::size_t attempts = 0;
    std::uint32_t relapses = 0;
    std::string reason;            // healerd's own sentence
};

// The alert for `given_up` through `unit_template` ("NAME@.service", checked
// by the configuration).
Alert give_up_alert(std::string_view unit_template, const GivenUp& given_up);

// The alert's environment as a systemd EnvironmentFile= reads it: one
// KEY="value" per line, with \ and " escaped and line breaks made spaces.
std::string environment_file_text(const Alert& alert);

// Writes alert-INSTANCE.env into `directory` (atomically: a reader never
// sees half a file) and keeps only the `keep` newest such files there.
// Throws std::runtime_error naming the file.
void write_alert_environment(const std::filesystem::path& directory, const Alert& alert, std::size_t keep = 64);

class Alerter {
public:
    virtual ~Alerter() = default;
    // Starts the alert's unit and waits a while for it: the result says
    // whether it ran. Blocking: worker threads only.
    virtual ExecutionResult send(const Alert& alert) = 0;
};

}  // namespace heal
