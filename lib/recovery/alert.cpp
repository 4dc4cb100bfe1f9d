#include "recovery/alert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace heal {

namespace {

constexpr std::string_view kTemplateSuffix = "@.service";
constexpr std::string_view kFilePrefix = "alert-";
constexpr std::string_view kFileSuffix = ".env";

std::string environment_quoted(std::string_view value) {
    std::string out = "\"";
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        out += (c == '\n' || c == '\r') ? ' ' : c;
    }
    return out + '"';
}

}  // namespace

Alert give_up_alert(std::string_view unit_template, const GivenUp& given_up) {
    Alert alert;
    alert.instance = given_up.incident_id > 0 ? std::to_string(given_up.incident_id) : "unstored";
    const std::string_view name = unit_template.substr(0, unit_template.size() - kTemplateSuffix.size());
    alert.unit = fmt::format("{}@{}.service", name, alert.instance);
    alert.environment = {
        {"HEALERD_EVENT", "given_up"},
        {"HEALERD_INCIDENT_ID", std::to_string(given_up.incident_id)},
        {"HEALERD_UNIT", given_up.unit.empty() ? "machine" : given_up.unit},
        {"HEALERD_FAILURE_KIND", std::string(to_string(given_up.failure_kind))},
        {"HEALERD_ATTEMPTS", std::to_string(given_up.attempts)},
        {"HEALERD_RELAPSES", std::to_string(given_up.relapses)},
        {"HEALERD_REASON", given_up.reason},
    };
    return alert;
}

std::string environment_file_text(const Alert& alert) {
    std::string text;
    for (const auto& [key, value] : alert.environment) text += fmt::format("{}={}\n", key, environment_quoted(value));
    return text;
}

void write_alert_environment(const std::filesystem::path& directory, const Alert& alert, std::size_t keep) {
    const auto file = directory / fmt::format("{}{}{}", kFilePrefix, alert.instance, kFileSuffix);
    const auto partial = directory / fmt::format(".{}.partial", file.filename().string());
    {
        std::ofstream out(partial, std::ios::trunc);
        out << environment_file_text(alert);
        out.flush();
        if (!out) throw std::runtime_error(fmt::format("cannot write {}: {}", partial.string(), std::strerror(errno)));
    }
    std::error_code error;
    std::filesystem::rename(partial, file, error);
    if (error) {
        std::filesystem::remove(partial, error);
        throw std::runtime_error(fmt::format("cannot write {}: {}", file.string(), error.message()));
    }

    // The oldest files go: their alerts ran long ago.
    std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(kFilePrefix) || !name.ends_with(kFileSuffix)) continue;
        std::error_code time_error;
        const auto modified = entry.last_write_time(time_error);
        if (!time_error) files.emplace_back(modified, entry.path());
    }
    if (files.size() <= keep) return;
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i + keep < files.size(); ++i) std::filesystem::remove(files[i].second, error);
}

}  // namespace heal
