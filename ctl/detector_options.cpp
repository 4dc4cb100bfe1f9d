#include "detector_options.hpp"

#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "config/config.hpp"
#include "error.hpp"

namespace healctl {

namespace {

heal::AdaptiveDetectorConfig base_config(const std::optional<std::filesystem::path>& file) {
    if (!file) return heal::DetectionConfig::default_original();
    std::error_code error;
    if (!std::filesystem::exists(*file, error))
        throw CtlError(Exit::usage, fmt::format("cannot read {}: no such file.", file->string()));
    try {
        return heal::load_config(*file, true).detection.original;
    } catch (const heal::ConfigError& e) {
        throw CtlError(Exit::failed, fmt::format("{}.", e.what()));
    }
}

}  // namespace

heal::AdaptiveDetectorConfig DetectorFlags::resolve() const {
    heal::AdaptiveDetectorConfig config = base_config(config_file);
    const struct {
        const std::optional<std::string>& value;
        const char* key;
        const char* flag;
    } flags[] = {
        {window, "Window", "--window"},
        {k, "K", "--k"},
        {min_samples, "MinSamples", "--min-samples"},
        {warmup_threshold, "WarmupThreshold", "--warmup-threshold"},
        {consecutive, "Consecutive", "--consecutive"},
        {floor, "Floor", "--floor"},
        {relearn_after, "RelearnAfter", "--relearn-after"},
    };
    for (const auto& flag : flags)
        if (flag.value)
            if (const auto problem = heal::set_detector_key(config, flag.key, *flag.value))
                throw CtlError(Exit::usage, fmt::format("{} {}: {} (as {}= in healerd.conf).", flag.flag,
                                                        *flag.value, *problem, flag.key));
    try {
        config.validate();
    } catch (const std::invalid_argument& e) {
        throw CtlError(Exit::usage, fmt::format("invalid detector parameters: {}.", e.what()));
    }
    return config;
}

bool DetectorFlags::any_parameter() const {
    return window || k || min_samples || warmup_threshold || consecutive || floor || relearn_after;
}

void add_detector_options(CLI::App* sub, DetectorFlags& flags) {
    const heal::AdaptiveDetectorConfig d = heal::DetectionConfig::default_original();
    auto* group = sub->add_option_group(
        "Detector", "Detector parameters; each overrides healerd.conf's [Detector] key and has its range");
    group->add_option("--config", flags.config_file, "Take the parameters from this healerd.conf (and its .d/)");
    group->add_option("--window", flags.window, fmt::format("Samples in the rolling window [{}]", d.window))
        ->type_name("N");
    group->add_option("--k", flags.k,
                      fmt::format("Standard deviations above the mean that are anomalous [{}]", d.k))
        ->type_name("K");
    group->add_option("--min-samples", flags.min_samples,
                      fmt::format("Samples before the adaptive rule replaces the fixed threshold [{}]",
                                  d.min_samples))
        ->type_name("N");
    group->add_option("--warmup-threshold", flags.warmup_threshold,
                      fmt::format("Fixed threshold (%) while warming up [{}]", d.warmup_threshold))
        ->type_name("X");
    group->add_option("--consecutive", flags.consecutive,
                      fmt::format("Anomalous samples in a row that make a failure [{}]", d.consecutive))
        ->type_name("N");
    group->add_option("--floor", flags.floor,
                      fmt::format("Values at or below this (%) are never a failure [{}]", d.floor))
        ->type_name("X");
    group->add_option("--relearn-after", flags.relearn_after,
                      fmt::format("Anomalous samples in a row after which they enter the window again, 0 never [{}]",
                                  d.relearn_after))
        ->type_name("N");
}

}  // namespace healctl
