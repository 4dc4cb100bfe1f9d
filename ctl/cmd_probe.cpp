// probe: sample this machine directly, as healerd would, and judge each sample.
#include <cmath>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "detection/adaptive_detector.hpp"
#include "detector_options.hpp"
#include "error.hpp"
#include "json_output.hpp"
#include "render.hpp"
#include "sampling/proc_sampler.hpp"
#include "time_format.hpp"

namespace healctl {

namespace {

struct ProbeOptions {
    double seconds = 10.0;
    double interval = 1.0;
    DetectorFlags detector;
};

Json pressure_json(const std::optional<heal::Pressure>& pressure) {
    return pressure ? Json(pressure->avg10) : Json(nullptr);
}

std::string pressure_text(const std::optional<heal::Pressure>& pressure) {
    return pressure ? fmt::format("{:.2f}", pressure->avg10) : "-";
}

std::string verdict_text(const heal::Verdict& v) {
    const std::string word = v.failure ? "FAILURE" : v.anomalous ? "anomalous" : "ok";
    return fmt::format("{:>6} {:<9} (> {})", percent(v.value), word, percent(v.threshold));
}

Json verdict_json(const heal::Verdict& v) {
    return {{"metric", v.metric},   {"value", v.value},     {"threshold", v.threshold},
            {"anomalous", v.anomalous}, {"failure", v.failure}, {"reason", v.reason}};
}

void print_sample(const heal::Sample& sample, const heal::Verdict& cpu, const heal::Verdict& memory, bool json) {
    const heal::SystemSample& s = sample.system;
    if (json) {
        print_json_line({{"timestamp", iso8601_utc(sample.time)},
                         {"cpu", s.cpu_percent},
                         {"memory", s.memory_percent},
                         {"cpu_pressure", pressure_json(s.cpu_pressure)},
                         {"memory_pressure", pressure_json(s.memory_pressure)},
                         {"io_pressure", pressure_json(s.io_pressure)},
                         {"failure", cpu.failure || memory.failure},
                         {"verdicts", {verdict_json(cpu), verdict_json(memory)}}});
        return;
    }
    fmt::print("{}  cpu {}  memory {}  psi cpu/mem/io {}/{}/{}\n", iso8601_utc(sample.time), verdict_text(cpu),
               verdict_text(memory), pressure_text(s.cpu_pressure), pressure_text(s.memory_pressure),
               pressure_text(s.io_pressure));
    for (const heal::Verdict* v : {&cpu, &memory})
        if (v->anomalous) fmt::print("  {}\n", v->reason);
    std::fflush(stdout);
}

}  // namespace

Command add_probe_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "probe", "Sample this machine directly, without healerd, and show the detector's verdicts");
    auto options = std::make_shared<ProbeOptions>();
    sub->add_option("--seconds,-s", options->seconds, "How long to sample")
        ->check(CLI::Range(0.1, 86400.0))
        ->capture_default_str();
    sub->add_option("--interval,-i", options->interval, "Seconds between samples")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    add_detector_options(sub, options->detector);
    return {sub, [&global, options] {
                const heal::AdaptiveDetectorConfig config = options->detector.resolve();
                heal::AdaptiveDetector cpu("cpu", config);
                heal::AdaptiveDetector memory("memory", config);
                const auto interval = std::chrono::duration<double>(options->interval);
                const auto count = std::max(1L, std::lround(options->seconds / options->interval));
                try {
                    heal::ProcSampler sampler;
                    sampler.sample();  // the baseline: CPU % needs a previous reading
                    for (long i = 0; i < count; ++i) {
                        std::this_thread::sleep_for(interval);
                        const heal::Sample sample = sampler.sample();
                        print_sample(sample, cpu.observe(sample.system.cpu_percent),
                                     memory.observe(sample.system.memory_percent), global.json);
                    }
                } catch (const heal::SampleError& e) {
                    throw CtlError(Exit::failed, fmt::format("cannot sample this machine: {}.", e.what()));
                }
            }};
}

}  // namespace healctl
