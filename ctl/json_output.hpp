#pragma once
// The --json shapes, documented in docs/man/healctl.1 (JSON OUTPUT). Field
// names follow the original design's REST API where it had them.
#include <nlohmann/json.hpp>

#include "api.hpp"

namespace healctl {

using Json = nlohmann::ordered_json;

void to_json(Json& j, const MetricPoint& point);
void to_json(Json& j, const ActionEntry& entry);
void to_json(Json& j, const SummaryStats& stats);
void to_json(Json& j, const IncidentEntry& entry);
void to_json(Json& j, const DetectVerdict& verdict);
void to_json(Json& j, const DetectResult& result);
void to_json(Json& j, const DecisionView& view);
void to_json(Json& j, const RecoverResult& result);
void to_json(Json& j, const TrainingFinished& finished);

// print_json's indent.
inline constexpr int kJsonIndent = 2;
// The text of a document (indent -1: on one line); text that is not UTF-8
// is replaced, not refused.
std::string dump_json(const Json& document, int indent);
// One document, indented.
void print_json(const Json& document);
// One document per line, for streams (watch, probe).
void print_json_line(const Json& document);

}  // namespace healctl
