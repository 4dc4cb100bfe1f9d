#include "detection/probe_runner.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "detection/probe_attempt.hpp"

namespace heal {

// One probe: its timer, its attempt in flight (if any) and its state.
struct ProbeRunner::Running {
    Running(ProbeRunner& runner, ProbeSpec probe_spec)
        : owner(runner),
          spec(std::move(probe_spec)),
          state(spec.options.failure_threshold, spec.options.success_threshold),
          timer(add_probe_timer(owner.event_, spec.options.initial_delay, &Running::on_timer, this)) {}
    ~Running() {
        attempt.reset();  // before the timer: the attempt's own sources go first
        sd_event_source_disable_unref(timer);
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    static int on_timer(sd_event_source*, uint64_t now, void* self) {
        static_cast<Running*>(self)->start(now);
        return 0;
    }

    void start(uint64_t now) {
        started = now;
        try {
            attempt = start_probe_attempt(owner.event_, spec, [this](ProbeResult result) { done(std::move(result)); });
        } catch (const std::exception& error) {  // the loop could not take the attempt's timer
            done(ProbeResult{false, {}, fmt::format("cannot start: {}", error.what())});
        }
    }

    void restart() {
        attempt.reset();
        state = ProbeState(spec.options.failure_threshold, spec.options.success_threshold);
        sd_event_source_set_time_relative(timer, static_cast<uint64_t>(
                                                     std::chrono::microseconds(spec.options.initial_delay).count()));
        sd_event_source_set_enabled(timer, SD_EVENT_ONESHOT);
    }

    // Called by the attempt, which is destroyed here: nothing of it may be
    // used afterwards.
    void done(ProbeResult result) {
        attempt.reset();
        const bool changed = state.record(std::move(result));
        // The next attempt an interval after this one started, or at once
        // when this one took longer.
        const auto interval = std::chrono::microseconds(spec.options.interval);
        sd_event_source_set_time(timer, started + static_cast<uint64_t>(interval.count()));
        sd_event_source_set_enabled(timer, SD_EVENT_ONESHOT);
        if (changed && owner.on_change_) owner.on_change_(spec, state);
    }

    ProbeRunner& owner;
    const ProbeSpec spec;
    ProbeState state;
    sd_event_source* timer = nullptr;
    uint64_t started = 0;  // CLOCK_MONOTONIC µs of the latest attempt's start
    std::unique_ptr<ProbeAttempt> attempt;
};

ProbeRunner::ProbeRunner(sd_event* event, OnChange on_change) : event_(event), on_change_(std::move(on_change)) {}

ProbeRunner::~ProbeRunner() = default;

void ProbeRunner::reconfigure(std::vector<ProbeSpec> specs) {
    for (auto spec = specs.begin(); spec != specs.end(); ++spec) {
        try {
            spec->validate();
        } catch (const std::invalid_argument& error) {
            throw std::invalid_argument(fmt::format("{}: {}", describe(*spec), error.what()));
        }
        if (std::find(specs.begin(), spec, *spec) != spec)
            throw std::invalid_argument(fmt::format("{} is given twice", describe(*spec)));
    }
    // New probes first: should the loop refuse one, nothing has changed yet.
    std::vector<std::unique_ptr<Running>> next(specs.size());
    const auto running = [&](const ProbeSpec& spec) {
        return std::find_if(running_.begin(), running_.end(),
                            [&](const std::unique_ptr<Running>& r) { return r && r->spec == spec; });
    };
    for (std::size_t i = 0; i < specs.size(); ++i)
        if (running(specs[i]) == running_.end()) next[i] = std::make_unique<Running>(*this, specs[i]);
    for (std::size_t i = 0; i < specs.size(); ++i)
        if (!next[i]) next[i] = std::move(*running(specs[i]));
    running_ = std::move(next);  // the probes left behind are cancelled here
}

void ProbeRunner::restart(const std::string& unit) {
    for (const auto& running : running_)
        if (running->spec.unit == unit) running->restart();
}

std::vector<ProbeRunner::Probe> ProbeRunner::probes() const {
    std::vector<Probe> probes;
    for (const auto& running : running_) probes.push_back(Probe{running->spec, running->state});
    return probes;
}

}  // namespace heal
