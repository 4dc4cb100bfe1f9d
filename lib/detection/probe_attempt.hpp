#pragma once
// One attempt of a health probe on an sd-event loop: it never blocks the
// loop (non-blocking sockets, a child watched through its pidfd) and ends
// by calling `done` exactly once, within its timeout (an exec child that
// outlives it is killed and reported once reaped). Destroying an attempt
// cancels it: its fds are closed, its child killed and reaped.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <systemd/sd-event.h>

#include "detection/probe_spec.hpp"
#include "detection/probe_state.hpp"

namespace heal {

class ProbeAttempt {
public:
    // May destroy the attempt that calls it.
    using Done = std::function<void(ProbeResult)>;

    virtual ~ProbeAttempt();
    ProbeAttempt(const ProbeAttempt&) = delete;
    ProbeAttempt& operator=(const ProbeAttempt&) = delete;

protected:
    // Throws std::system_error when the loop cannot take a timer.
    ProbeAttempt(sd_event* event, std::chrono::microseconds timeout, Done done);

    // Ends the attempt; the caller must not touch the attempt afterwards.
    void finish(bool success, std::string error = {});
    // Ends it from the loop's next iteration: for outcomes known while
    // starting, before the owner holds the attempt.
    void finish_soon(std::string error);
    // The timeout passed: end the attempt (or arrange for it to end).
    virtual void on_timeout() = 0;
    // strerror's text for a result: "connection refused".
    static std::string error_text(int error);

    sd_event* event() const { return event_; }

private:
    static int on_timer(sd_event_source*, uint64_t, void* self);

    sd_event* event_;
    sd_event_source* timer_ = nullptr;
    std::chrono::steady_clock::time_point start_;
    std::optional<std::string> early_error_;
    Done done_;
};

// Starts one attempt of `spec` (already validated).
std::unique_ptr<ProbeAttempt> start_probe_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done);

// Kind by kind, behind start_probe_attempt.
std::unique_ptr<ProbeAttempt> start_socket_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done);
std::unique_ptr<ProbeAttempt> start_exec_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done);

// A one-shot CLOCK_MONOTONIC timer `delay` from now, accurate to 1 ms (a
// 200 ms timeout stays 200 ms, not sd-event's default 250 ms of slack).
// Throws std::system_error when the loop cannot take it.
sd_event_source* add_probe_timer(sd_event* event, std::chrono::microseconds delay, sd_event_time_handler_t handler,
                                 void* userdata);

}  // namespace heal
