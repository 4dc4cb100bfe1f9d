#include "status_view.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/limit_text.hpp"
#include "render.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

constexpr std::uint32_t kMaxLimit = 10000;

std::string describe_action(const ActionEntry& a) {
    const std::string target = a.unit.empty() ? "the machine" : a.unit;
    const std::string outcome = a.recovery_time ? fmt::format("{} in {}", a.result, seconds(*a.recovery_time))
                                                : a.result;
    return fmt::format("{} {} on {}: {} (reward {:.2f})", local_time(a.timestamp), a.action, target, outcome,
                       a.reward);
}

std::string chart_line(std::string_view label, double current, const std::vector<double>& history) {
    if (history.empty()) return fmt::format("{:<8}{:>7}\n", label, percent(current));
    const auto [low, high] = std::minmax_element(history.begin(), history.end());
    return fmt::format("{:<8}{:>7}  {}  min {} max {}\n", label, percent(current), sparkline(history),
                       percent(*low), percent(*high));
}

const UnitLimitsEntry* limits_of(const std::vector<UnitLimitsEntry>& all, const std::string& unit) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const UnitLimitsEntry& e) { return e.unit == unit; });
    return it == all.end() ? nullptr : &*it;
}

// " (MemoryMax 300M, CPUQuota 50%)": the limits the unit has, if any.
std::string limits_text(const std::vector<UnitLimitsEntry>& all, const std::string& unit) {
    const UnitLimitsEntry* limits = limits_of(all, unit);
    if (!limits) return "";
    std::vector<std::string> parts;
    const std::pair<const char*, std::uint64_t> values[] = {{"MemoryMax", limits->memory_max},
                                                            {"MemoryHigh", limits->memory_high},
                                                            {"CPUQuotaPerSecUSec", limits->cpu_quota_per_sec_usec}};
    for (const auto& [property, value] : values)
        if (value != UnitLimitsEntry::kNoLimit)
            parts.push_back(fmt::format("{} {}", heal::limit_name(property), heal::format_limit(property, value)));
    return parts.empty() ? "" : fmt::format(" ({})", fmt::join(parts, ", "));
}

std::string raise_expiry(const RaisedLimitEntry& raise) {
    if (raise.expires == RaisedLimitEntry::kUntilReboot) return "kept until reboot (ScaleUpExpireSec=0)";
    if (raise.expires == 0) return "put back once the unit has been stable for ScaleUpExpireSec=";
    return "put back at " + local_time(static_cast<Microseconds>(raise.expires)) + " if it stays stable";
}

}  // namespace

StatusSnapshot fetch_status(BusClient& client) {
    StatusSnapshot snapshot;
    snapshot.state = client.state();
    // Unit samples are interleaved with the machine's; ask for enough rows to
    // hold the last kSparklineSamples machine samples.
    const auto per_tick = static_cast<std::uint32_t>(snapshot.state.watched_units.size() + 1);
    const auto metrics = client.metrics(std::min<std::uint32_t>(kMaxLimit, kSparklineSamples * per_tick));
    for (auto it = metrics.rbegin(); it != metrics.rend(); ++it) {
        if (!it->unit.empty()) continue;
        snapshot.cpu_history.push_back(it->cpu);
        snapshot.memory_history.push_back(it->memory);
    }
    const auto drop = snapshot.cpu_history.size() > kSparklineSamples ? snapshot.cpu_history.size() - kSparklineSamples : 0;
    snapshot.cpu_history.erase(snapshot.cpu_history.begin(), snapshot.cpu_history.begin() + drop);
    snapshot.memory_history.erase(snapshot.memory_history.begin(), snapshot.memory_history.begin() + drop);

    const auto actions = client.actions(1);
    if (!actions.empty()) snapshot.last_action = actions.front();
    return snapshot;
}

std::string render_status(const StatusSnapshot& snapshot) {
    const DaemonState& s = snapshot.state;
    std::string out = fmt::format("healerd {}: {}\n", s.version, paint_state(s.health));
    out += chart_line("CPU", s.cpu, snapshot.cpu_history);
    out += chart_line("Memory", s.memory, snapshot.memory_history);
    out += fmt::format("Policy        {} ({})\n", s.policy, s.model_loaded ? "model loaded" : "no model loaded");
    out += fmt::format("Training      {}\n", s.training_state);
    out += fmt::format("Failures      {} since start\n", s.failure_count);
    out += fmt::format("Backend       {}, auto-recover {}\n", s.backend, s.auto_recover ? "on" : "off");
    out += fmt::format("Watched units {}\n",
                       s.watched_units.empty() ? std::string("none") : fmt::format("{}", fmt::join(s.watched_units, ", ")));
    for (const auto& [unit, state] : s.unit_states)
        out += fmt::format("  {:<24} {}{}\n", unit, state == "stopped" ? "stopped on purpose (no action)" : paint_state(state),
                           limits_text(s.unit_limits, unit));
    for (const PauseEntry& pause : s.paused)
        out += fmt::format("Paused        {} {} (no action taken)\n", pause.unit.empty() ? "the machine" : pause.unit,
                           pause.until ? "until " + local_time(pause.until) : std::string("until resumed"));
    for (const RaisedLimitEntry& raise : s.raised_limits)
        out += fmt::format("Raised        {} {} {} (configured {}) by scale_up; {}\n", raise.unit,
                           heal::limit_name(raise.property), heal::format_limit(raise.property, raise.raised),
                           heal::format_limit(raise.property, raise.configured), raise_expiry(raise));
    out += fmt::format("Last action   {}\n", snapshot.last_action ? describe_action(*snapshot.last_action) : "none");
    return out;
}

namespace {

// Limits in systemd's units (bytes; CPU time per second for the quota, as a
// percentage of one CPU here), null when unset.
Json units_json(const std::vector<std::pair<std::string, std::string>>& unit_states,
                const std::vector<UnitLimitsEntry>& unit_limits) {
    const auto value = [](std::uint64_t v) { return v == UnitLimitsEntry::kNoLimit ? Json(nullptr) : Json(v); };
    Json list = Json::array();
    for (const auto& [unit, state] : unit_states) {
        Json entry{{"unit", unit}, {"state", state}, {"memory_max", nullptr}, {"memory_high", nullptr},
                   {"cpu_quota", nullptr}};
        if (const UnitLimitsEntry* limits = limits_of(unit_limits, unit)) {
            entry["memory_max"] = value(limits->memory_max);
            entry["memory_high"] = value(limits->memory_high);
            if (limits->cpu_quota_per_sec_usec != UnitLimitsEntry::kNoLimit)
                entry["cpu_quota"] = static_cast<double>(limits->cpu_quota_per_sec_usec) / 10000.0;
        }
        list.push_back(entry);
    }
    return list;
}

// until: ISO 8601 UTC, or null for a pause until resumed.
Json paused_json(const std::vector<PauseEntry>& paused) {
    Json list = Json::array();
    for (const PauseEntry& pause : paused)
        list.push_back({{"unit", pause.unit},
                        {"until", pause.until ? Json(iso8601_utc(pause.until)) : Json(nullptr)},
                        {"paused_by", pause.paused_by}});
    return list;
}

Json raised_json(const std::vector<RaisedLimitEntry>& raised) {
    Json list = Json::array();
    for (const RaisedLimitEntry& raise : raised) {
        const bool dated = raise.expires != 0 && raise.expires != RaisedLimitEntry::kUntilReboot;
        list.push_back({{"unit", raise.unit},
                        {"property", heal::limit_name(raise.property)},
                        {"configured", heal::format_limit(raise.property, raise.configured)},
                        {"raised", heal::format_limit(raise.property, raise.raised)},
                        {"raised_at", iso8601_utc(raise.raised_at)},
                        {"expires", dated ? Json(iso8601_utc(static_cast<Microseconds>(raise.expires))) : Json(nullptr)},
                        {"until_reboot", raise.expires == RaisedLimitEntry::kUntilReboot}});
    }
    return list;
}

}  // namespace

Json status_json(const StatusSnapshot& snapshot) {
    const DaemonState& s = snapshot.state;
    return {{"health", s.health},
            {"cpu", s.cpu},
            {"memory", s.memory},
            {"failure_count", s.failure_count},
            {"policy", s.policy},
            {"model_loaded", s.model_loaded},
            {"training_state", s.training_state},
            {"backend", s.backend},
            {"auto_recover", s.auto_recover},
            {"watched_units", s.watched_units},
            {"units", units_json(s.unit_states, s.unit_limits)},
            {"paused", paused_json(s.paused)},
            {"raised_limits", raised_json(s.raised_limits)},
            {"version", s.version},
            {"last_action", snapshot.last_action ? Json(*snapshot.last_action) : Json(nullptr)},
            {"cpu_history", snapshot.cpu_history},
            {"memory_history", snapshot.memory_history}};
}

}  // namespace healctl
