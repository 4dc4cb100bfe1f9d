#pragma once
// Runs the health probes of the watched units on an sd-event loop (the one
// sampling runs on): each probe on its own timer, first after its initial
// delay, then every interval from the start of the previous attempt, one
// attempt at a time (an attempt that takes longer delays the next). Each
// result feeds the probe's ProbeState; a change of health is reported.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "detection/probe_spec.hpp"
#include "detection/probe_state.hpp"

namespace heal {

class ProbeRunner {
public:
    // Called when a probe's health changes, from the loop. It must not
    // throw (sd-event is C), nor reconfigure or destroy the runner.
    using OnChange = std::function<void(const ProbeSpec&, const ProbeState&)>;

    // `event` must outlive the runner.
    ProbeRunner(sd_event* event, OnChange on_change);
    // Cancels every attempt: sockets closed, children killed and reaped.
    ~ProbeRunner();
    ProbeRunner(const ProbeRunner&) = delete;
    ProbeRunner& operator=(const ProbeRunner&) = delete;

    // Runs exactly `specs` from now on. A probe whose spec is unchanged keeps
    // its state, its schedule and any attempt in flight; the others start
    // afresh (after their initial delay). Throws std::invalid_argument, and
    // changes nothing, when a spec is invalid or appears twice.
    void reconfigure(std::vector<ProbeSpec> specs);

    // The unit was just acted on (a restart): its probes start over, as a
    // restarted container's do: state unknown, the attempt in flight
    // cancelled, the next one after the initial delay.
    void restart(const std::string& unit);

    struct Probe {
        const ProbeSpec& spec;
        const ProbeState& state;
    };
    // In the order reconfigure() was given.
    std::vector<Probe> probes() const;

private:
    struct Running;
    sd_event* event_;
    OnChange on_change_;
    std::vector<std::unique_ptr<Running>> running_;
};

}  // namespace heal
