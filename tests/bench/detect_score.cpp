#include "detect_score.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace heal::bench {

std::vector<FaultWindow> fault_windows(const std::vector<TraceTick>& ticks) {
    std::vector<FaultWindow> windows;
    std::map<std::string, std::size_t> open;  // unit -> its window still running, by index
    for (const TraceTick& tick : ticks) {
        for (const TraceRow& row : tick.rows) {
            const auto current = open.find(row.unit);
            if (current != open.end() && windows[current->second].label == row.label) {
                windows[current->second].end = tick.t;
                continue;
            }
            if (current != open.end()) open.erase(current);
            if (row.label.empty()) continue;
            open[row.unit] = windows.size();
            windows.push_back(FaultWindow{row.unit, row.label, tick.t, tick.t});
        }
    }
    std::stable_sort(windows.begin(), windows.end(), [](const FaultWindow& a, const FaultWindow& b) {
        return std::tie(a.start, a.unit) < std::tie(b.start, b.unit);
    });
    return windows;
}

std::optional<double> nearest_rank(std::vector<double> values, double p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

DetectionScore score_detection(const std::vector<TraceTick>& ticks, const std::vector<DetectionEvent>& events,
                               double grace_sec) {
    DetectionScore score;
    for (FaultWindow& window : fault_windows(ticks)) score.windows.push_back(WindowResult{std::move(window), {}, {}});

    std::vector<DetectionEvent> ordered = events;
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const DetectionEvent& a, const DetectionEvent& b) { return a.t < b.t; });
    for (const DetectionEvent& event : ordered) {
        bool in_window = false;
        for (WindowResult& result : score.windows) {
            const FaultWindow& w = result.window;
            if (w.unit != event.unit || event.t < w.start || event.t > w.end + grace_sec) continue;
            in_window = true;
            if (!result.detected_at) {
                result.detected_at = event.t;
                result.signal = event.signal;
            }
        }
        if (in_window) ++score.true_events;
        else score.false_alarms.push_back(event);
    }
    score.events = ordered.size();

    const double interval =
        ticks.size() < 2 ? 1.0 : (ticks.back().t - ticks.front().t) / static_cast<double>(ticks.size() - 1);
    for (const TraceTick& tick : ticks)
        for (const TraceRow& row : tick.rows)
            if (row.label.empty()) score.healthy_target_seconds += interval;

    std::vector<double> delays;
    for (const WindowResult& result : score.windows)
        if (const auto delay = result.delay()) delays.push_back(*delay);
    if (score.events > 0)
        score.precision = static_cast<double>(score.true_events) / static_cast<double>(score.events);
    if (!score.windows.empty())
        score.recall = static_cast<double>(delays.size()) / static_cast<double>(score.windows.size());
    score.delay_median_s = nearest_rank(delays, 0.5);
    score.delay_p95_s = nearest_rank(delays, 0.95);
    if (score.healthy_target_seconds > 0.0)
        score.false_alarms_per_unit_day =
            static_cast<double>(score.false_alarms.size()) / (score.healthy_target_seconds / 86'400.0);
    return score;
}

}  // namespace heal::bench
