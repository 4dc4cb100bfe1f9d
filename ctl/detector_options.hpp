#pragma once
// The detector's parameters as flags, shared by replay and probe: healerd's
// defaults, or the [Detector] section of a healerd.conf, overridden by flags.
#include <cstddef>
#include <filesystem>
#include <optional>

#include <CLI/CLI.hpp>

#include "detection/adaptive_detector.hpp"

namespace healctl {

struct DetectorFlags {
    std::optional<std::filesystem::path> config_file;
    std::optional<std::size_t> window;
    std::optional<double> k;
    std::optional<std::size_t> min_samples;
    std::optional<double> warmup_threshold;
    std::optional<std::size_t> consecutive;
    std::optional<double> floor;
    std::optional<std::size_t> relearn_after;

    // Throws CtlError: usage for a missing config file or rejected values,
    // failed for a malformed config file.
    heal::AdaptiveDetectorConfig resolve() const;
};

void add_detector_options(CLI::App* sub, DetectorFlags& flags);

}  // namespace healctl
