#include "detection/detection_config.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>

#include "core/words.hpp"
#include "detection/original_signal.hpp"

namespace heal {
namespace {

struct KindName {
    SignalKind kind;
    std::string_view name;
    std::string_view metric;
};

constexpr std::array<KindName, 10> kKinds = {{
    {SignalKind::cpu_saturation, "cpu_saturation", "cpu"},
    {SignalKind::memory_leak, "memory_leak", "memory"},
    {SignalKind::memory_pressure, "memory_pressure", "memory"},
    {SignalKind::cpu_pressure, "cpu_pressure", "cpu"},
    {SignalKind::io_pressure, "io_pressure", "io"},
    {SignalKind::cpu_anomaly, "cpu_anomaly", "cpu"},
    {SignalKind::memory_anomaly, "memory_anomaly", "memory"},
    {SignalKind::cpu_original, "cpu_original", "cpu"},
    {SignalKind::memory_original, "memory_original", "memory"},
    {SignalKind::crash_loop, "crash_loop", "active"},
}};

const KindName& entry(SignalKind kind) { return kKinds[static_cast<std::size_t>(kind)]; }

// Re-throws a config's complaint with the signal it belongs to.
template <typename Check>
void validate_signal(std::string_view signal, Check&& check) {
    try {
        check();
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("{}: {}", signal, e.what()));
    }
}

}  // namespace

std::string_view to_string(SignalKind kind) { return entry(kind).name; }
std::string_view metric_of(SignalKind kind) { return entry(kind).metric; }

std::optional<SignalKind> parse_signal_kind(std::string_view name) {
    for (const KindName& known : kKinds)
        if (known.name == name) return known.kind;
    return std::nullopt;
}

AdaptiveDetectorConfig DetectionConfig::default_original() {
    AdaptiveDetectorConfig detector;
    detector.consecutive = 3;
    return detector;
}

void DetectionConfig::set_max_gap_sec(double seconds) {
    cpu_saturation.max_gap_sec = memory_leak.max_gap_sec = seconds;
    memory_pressure.max_gap_sec = cpu_pressure.max_gap_sec = io_pressure.max_gap_sec = seconds;
    cpu_anomaly.max_gap_sec = memory_anomaly.max_gap_sec = seconds;
}

bool DetectionConfig::has(SignalKind kind) const {
    return std::find(signals.begin(), signals.end(), kind) != signals.end();
}

void DetectionConfig::validate() const {
    validate_signal("unit state", [&] { validate_sustained(inactive_for_sec, cpu_saturation.max_gap_sec); });
    validate_signal("cpu_saturation", [&] { cpu_saturation.validate(); });
    validate_signal("memory_leak", [&] { memory_leak.validate(); });
    validate_signal("memory_pressure", [&] { memory_pressure.validate(); });
    validate_signal("cpu_pressure", [&] { cpu_pressure.validate(); });
    validate_signal("io_pressure", [&] { io_pressure.validate(); });
    validate_signal("cpu_anomaly", [&] { cpu_anomaly.validate(); });
    validate_signal("memory_anomaly", [&] { memory_anomaly.validate(); });
    validate_signal("original", [&] { original.validate(); });
    validate_signal("crash_loop", [&] { crash_loop.validate(); });
}

std::vector<SignalKind> parse_signal_list(std::string_view text) {
    std::vector<SignalKind> kinds;
    const auto add = [&](SignalKind kind) {
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    };
    for (const std::string_view word : split_words(text)) {
        if (word == "original") {
            add(SignalKind::cpu_original);
            add(SignalKind::memory_original);
        } else if (const auto kind = parse_signal_kind(word)) {
            add(*kind);
        } else {
            std::string known;
            for (const KindName& k : kKinds) known += fmt::format("{}, ", k.name);
            throw std::invalid_argument(fmt::format("'{}' is not a signal ({}original)", word, known));
        }
    }
    return kinds;
}

std::vector<NamedDetector> make_detectors(const DetectionConfig& config) {
    std::vector<NamedDetector> detectors;
    for (const SignalKind kind : config.signals) {
        std::unique_ptr<SignalDetector> detector;
        switch (kind) {
            case SignalKind::cpu_saturation:
                detector = std::make_unique<CpuSaturationDetector>(config.cpu_saturation);
                break;
            case SignalKind::memory_leak:
                detector = std::make_unique<MemoryExhaustionDetector>(config.memory_leak);
                break;
            case SignalKind::memory_pressure:
                detector = std::make_unique<PressureDetector>(config.memory_pressure);
                break;
            case SignalKind::cpu_pressure:
                detector = std::make_unique<PressureDetector>(config.cpu_pressure);
                break;
            case SignalKind::io_pressure:
                detector = std::make_unique<PressureDetector>(config.io_pressure);
                break;
            case SignalKind::cpu_anomaly:
                detector = std::make_unique<AnomalyDetector>(config.cpu_anomaly);
                break;
            case SignalKind::memory_anomaly:
                detector = std::make_unique<AnomalyDetector>(config.memory_anomaly);
                break;
            case SignalKind::cpu_original:
                detector = std::make_unique<OriginalDetector>(SignalMetric::cpu, config.original);
                break;
            case SignalKind::memory_original:
                detector = std::make_unique<OriginalDetector>(SignalMetric::memory, config.original);
                break;
            case SignalKind::crash_loop:
                detector = std::make_unique<CrashLoopDetector>(config.crash_loop);
                break;
        }
        detectors.push_back(NamedDetector{kind, std::move(detector)});
    }
    return detectors;
}

}  // namespace heal
