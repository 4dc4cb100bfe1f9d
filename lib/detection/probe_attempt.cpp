#include "detection/probe_attempt.hpp"

#include <cctype>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace heal {

ProbeAttempt::ProbeAttempt(sd_event* event, std::chrono::microseconds timeout, Done done)
    : event_(event),
      timer_(add_probe_timer(event, timeout, &ProbeAttempt::on_timer, this)),
      start_(std::chrono::steady_clock::now()),
      done_(std::move(done)) {}

ProbeAttempt::~ProbeAttempt() { sd_event_source_disable_unref(timer_); }

void ProbeAttempt::finish(bool success, std::string error) {
    sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_);
    // `done` may destroy this attempt, and with it done_: call a copy.
    const Done done = std::move(done_);
    done(ProbeResult{success, latency, std::move(error)});
}

void ProbeAttempt::finish_soon(std::string error) {
    early_error_ = std::move(error);
    sd_event_source_set_time_relative(timer_, 0);
}

std::string ProbeAttempt::error_text(int error) {
    const char* description = strerrordesc_np(error);
    std::string text = description ? description : fmt::format("error {}", error);
    // "Connection refused" reads as "connection refused" inside a sentence
    // ("I/O error" keeps its capital).
    if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) &&
        std::islower(static_cast<unsigned char>(text[1])))
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

int ProbeAttempt::on_timer(sd_event_source*, uint64_t, void* self) {
    auto* attempt = static_cast<ProbeAttempt*>(self);
    if (attempt->early_error_)
        attempt->finish(false, std::move(*attempt->early_error_));
    else
        attempt->on_timeout();
    return 0;
}

sd_event_source* add_probe_timer(sd_event* event, std::chrono::microseconds delay, sd_event_time_handler_t handler,
                                 void* userdata) {
    constexpr uint64_t accuracy_usec = 1000;
    sd_event_source* timer = nullptr;
    const int r = sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, static_cast<uint64_t>(delay.count()),
                                             accuracy_usec, handler, userdata);
    if (r < 0) throw std::system_error(-r, std::generic_category(), "sd_event_add_time_relative");
    return timer;
}

std::unique_ptr<ProbeAttempt> start_probe_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done) {
    if (spec.target.kind == ProbeKind::exec) return start_exec_attempt(event, spec, std::move(done));
    return start_socket_attempt(event, spec, std::move(done));
}

}  // namespace heal
