#pragma once
// The detector's parameters as flags, shared by replay and probe: healerd's
// defaults, or the [Detector] section of a healerd.conf, overridden by flags.
#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "detection/adaptive_detector.hpp"

namespace healctl {

// Each value is kept as typed and set by healerd.conf's own rule for the
// key, so the flags accept exactly what [Detector] accepts.
struct DetectorFlags {
    std::optional<std::filesystem::path> config_file;
    std::optional<std::string> window;
    std::optional<std::string> k;
    std::optional<std::string> min_samples;
    std::optional<std::string> warmup_threshold;
    std::optional<std::string> consecutive;
    std::optional<std::string> floor;
    std::optional<std::string> relearn_after;

    // Throws CtlError: usage for a missing config file or rejected values,
    // failed for a malformed config file.
    heal::AdaptiveDetectorConfig resolve() const;
    // Whether a parameter flag (anything but --config) was given.
    bool any_parameter() const;
};

void add_detector_options(CLI::App* sub, DetectorFlags& flags);

}  // namespace healctl
