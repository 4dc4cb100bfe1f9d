#include "detector_options.hpp"

#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "config/config.hpp"
#include "error.hpp"

namespace healctl {

namespace {

// Bounds the sample counts so that a negative number or a typo cannot ask for
// gigabytes of window; the library judges the values themselves.
const CLI::Range kCountRange(std::size_t{0}, std::size_t{1'000'000});

heal::AdaptiveDetectorConfig base_config(const std::optional<std::filesystem::path>& file) {
    if (!file) return heal::Config::default_detector();
    std::error_code error;
    if (!std::filesystem::exists(*file, error))
        throw CtlError(Exit::usage, fmt::format("cannot read {}: no such file.", file->string()));
    try {
        return heal::load_config(*file, true).detector;
    } catch (const heal::ConfigError& e) {
        throw CtlError(Exit::failed, fmt::format("{}.", e.what()));
    }
}

template <typename T>
void override_with(T& field, const std::optional<T>& flag) {
    if (flag) field = *flag;
}

}  // namespace

heal::AdaptiveDetectorConfig DetectorFlags::resolve() const {
    heal::AdaptiveDetectorConfig config = base_config(config_file);
    override_with(config.window, window);
    override_with(config.k, k);
    override_with(config.min_samples, min_samples);
    override_with(config.warmup_threshold, warmup_threshold);
    override_with(config.consecutive, consecutive);
    override_with(config.floor, floor);
    override_with(config.relearn_after, relearn_after);
    try {
        config.validate();
    } catch (const std::invalid_argument& e) {
        throw CtlError(Exit::usage, fmt::format("invalid detector parameters: {}.", e.what()));
    }
    return config;
}

void add_detector_options(CLI::App* sub, DetectorFlags& flags) {
    const heal::AdaptiveDetectorConfig d = heal::Config::default_detector();
    auto* group = sub->add_option_group("Detector", "Detector parameters; each overrides healerd.conf's [Detector]");
    group->add_option("--config", flags.config_file, "Take the parameters from this healerd.conf (and its .d/)");
    group->add_option("--window", flags.window, fmt::format("Samples in the rolling window [{}]", d.window))
        ->check(kCountRange);
    group->add_option("--k", flags.k, fmt::format("Standard deviations above the mean that are anomalous [{}]", d.k))
        ->check(CLI::NonNegativeNumber);
    group->add_option("--min-samples", flags.min_samples,
                      fmt::format("Samples before the adaptive rule replaces the fixed threshold [{}]", d.min_samples))
        ->check(kCountRange);
    group->add_option("--warmup-threshold", flags.warmup_threshold,
                      fmt::format("Fixed threshold (%) while warming up [{}]", d.warmup_threshold));
    group->add_option("--consecutive", flags.consecutive,
                      fmt::format("Anomalous samples in a row that make a failure [{}]", d.consecutive))
        ->check(kCountRange);
    group->add_option("--floor", flags.floor, fmt::format("Values at or below this (%) are never a failure [{}]", d.floor));
    group->add_option("--relearn-after", flags.relearn_after,
                      fmt::format("Anomalous samples in a row after which they enter the window again, 0 never [{}]",
                                  d.relearn_after))
        ->check(kCountRange);
}

}  // namespace healctl
