#include "json_output.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "time_format.hpp"

namespace healctl {

namespace {

Json optional_number(const std::optional<double>& value) { return value ? Json(*value) : Json(nullptr); }

Json optional_string(const std::string& value) { return value.empty() ? Json(nullptr) : Json(value); }

}  // namespace

void to_json(Json& j, const MetricPoint& point) {
    j = {{"timestamp", iso8601_utc(point.timestamp)},
         {"cpu", point.cpu},
         {"memory", point.memory},
         {"status", point.status},
         {"unit", point.unit}};
}

void to_json(Json& j, const ActionEntry& entry) {
    j = {{"timestamp", iso8601_utc(entry.timestamp)},
         {"action", entry.action},
         {"result", entry.result},
         {"reward", entry.reward},
         {"recovery_time", optional_number(entry.recovery_time)},
         {"unit", entry.unit},
         {"failure_kind", optional_string(entry.failure_kind)}};
    if (entry.incident_id) j["incident_id"] = *entry.incident_id;
}

void to_json(Json& j, const SummaryStats& stats) {
    j = {{"total_actions", stats.total_actions},
         {"successes", stats.successes},
         {"failures", stats.failures},
         {"success_rate", stats.success_rate},
         {"avg_mttr", optional_number(stats.avg_mttr)},
         {"incidents", stats.incidents},
         {"resolved", stats.resolved},
         {"given_up", stats.given_up},
         {"resolved_rate", optional_number(resolved_rate(stats))},
         {"attempts_per_incident", optional_number(stats.attempts_per_incident)},
         {"relapses", stats.relapses},
         {"mttr", optional_number(stats.mttr)},
         {"self_resolved", stats.self_resolved}};
}

void to_json(Json& j, const IncidentEntry& entry) {
    const auto optional_time = [](const std::optional<Microseconds>& time) {
        return time ? Json(iso8601_utc(*time)) : Json(nullptr);
    };
    j = {{"id", entry.id},
         {"unit", entry.unit},
         {"failure_kind", optional_string(entry.failure_kind)},
         {"outcome", entry.outcome},
         {"opened", iso8601_utc(entry.opened)},
         {"closed", optional_time(entry.closed)},
         {"healthy_since", optional_time(entry.healthy_since)},
         {"time_to_recover", optional_number(time_to_recover(entry))},
         {"attempts", entry.attempts},
         {"relapses", entry.relapses},
         {"detail", entry.detail}};
}

void to_json(Json& j, const DetectVerdict& verdict) {
    j = {{"metric", verdict.metric},
         {"value", verdict.value},
         {"threshold", verdict.threshold},
         {"anomalous", verdict.anomalous},
         {"reason", verdict.reason}};
}

void to_json(Json& j, const DetectResult& result) {
    j = {{"detected", result.detected}, {"status", result.status}, {"verdicts", result.verdicts}};
}

void to_json(Json& j, const DecisionView& view) {
    Json actions = Json::object();
    for (const DecisionView::Choice& choice : view.actions)
        actions[choice.action] = {{"probability", choice.probability},
                                  {"candidate", choice.candidate},
                                  {"excluded", optional_string(choice.excluded)}};
    j = {{"policy", view.policy},
         {"target", view.target},
         {"chosen", optional_string(view.action)},
         {"reason", optional_string(view.why_none)},
         {"incident", {{"state", view.incident},
                       {"attempts", view.attempts},
                       {"relapses", view.relapses},
                       {"next_attempt_in", optional_number(view.next_attempt_in)}}},
         {"actions", actions},
         {"shadow", optional_string(view.shadow)}};
}

void to_json(Json& j, const RecoverResult& result) {
    j = {{"action", result.action},
         {"result", result.result},
         {"reward", result.reward},
         {"recovery_time", optional_number(result.recovery_time)},
         {"unit", result.unit},
         {"detail", result.detail}};
}

void to_json(Json& j, const TrainingFinished& finished) {
    j = {{"status", finished.success ? "finished" : "failed"},
         {"success", finished.success},
         {"episodes", finished.episodes},
         {"mean_reward", finished.mean_reward},
         {"message", finished.message}};
}

std::string dump_json(const Json& document, int indent) {
    // Replace rather than throw on text that is not UTF-8 (unit names are not checked).
    return document.dump(indent, ' ', false, Json::error_handler_t::replace);
}

void print_json(const Json& document) { fmt::print("{}\n", dump_json(document, kJsonIndent)); }

void print_json_line(const Json& document) {
    fmt::print("{}\n", dump_json(document, -1));
    std::fflush(stdout);
}

}  // namespace healctl
