#pragma once
// Running healctl and reading its output in tests.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "process.hpp"

namespace heal::integration {

using Json = nlohmann::json;

// healctl --user ARGS... on the bus the test set up.
inline RunResult healctl(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {HEALCTL_PATH, "--user"});
    return run(args, input);
}

// The uid healctl_as_nobody runs as: neither root, nor healerd's, nor in any group.
inline constexpr int kNobody = 65534;

// healctl --user ARGS... as uid and gid kNobody without supplementary groups,
// on the same bus.
inline RunResult healctl_as_nobody(std::vector<std::string> args) {
    const std::string id = std::to_string(kNobody);
    args.insert(args.begin(), {SETPRIV_PATH, "--reuid=" + id, "--regid=" + id, "--clear-groups", HEALCTL_PATH, "--user"});
    return run(args);
}

// Parses stdout as JSON, failing the test (with the whole output) if it is not.
inline Json json_of(const RunResult& result) {
    INFO(result.describe());
    try {
        return Json::parse(result.out);
    } catch (const Json::parse_error& e) {
        FAIL("stdout is not JSON: " << e.what());
    }
    return {};
}

// healctl status --json, failing the test unless it answers.
inline Json status_of() {
    const RunResult result = healctl({"status", "--json"});
    INFO(result.describe());
    REQUIRE(result.exit_code == 0);
    return json_of(result);
}

// Every line of stdout as one JSON document.
inline std::vector<Json> json_lines_of(const std::string& text) {
    std::vector<Json> documents;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty()) documents.push_back(Json::parse(line));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return documents;
}

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
}

// ISO-8601 UTC with milliseconds, as healctl writes every timestamp.
inline bool is_iso8601_utc(const Json& value) {
    if (!value.is_string()) return false;
    const std::string text = value.get<std::string>();
    static const std::string kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (text.size() != kShape.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (kShape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(text[i])) : text[i] != kShape[i]) return false;
    return true;
}

}  // namespace heal::integration
