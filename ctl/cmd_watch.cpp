#include <signal.h>
#include <systemd/sd-event.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "render.hpp"
#include "status_view.hpp"

namespace healctl {

namespace {

constexpr std::uint64_t kRefreshUs = 1'000'000;

struct EventUnref {
    void operator()(sd_event* e) const { sd_event_unref(e); }
};

void check_event(int r, const char* what) {
    if (r < 0) throw CtlError(Exit::failed, fmt::format("cannot {}: {}.", what, std::strerror(-r)));
}

int on_refresh_timer(sd_event_source* source, std::uint64_t, void* userdata) {
    *static_cast<bool*>(userdata) = true;
    // One-shot timers: re-arm for the next second.
    sd_event_source_set_time_relative(source, kRefreshUs);
    sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    return 0;
}

void draw(BusClient& client, bool json, bool terminal) {
    const StatusSnapshot snapshot = fetch_status(client);
    if (json) {
        print_json_line(status_json(snapshot));
        return;
    }
    const std::string frame = render_status(snapshot);
    if (!terminal) {
        // A pipe gets the frames one after another, without escape codes.
        fmt::print("\n{}", frame);
    } else {
        // Overwrite in place (home, clear each line's rest, clear below): no flicker.
        std::string screen = "\x1b[H";
        for (std::size_t start = 0, end; (end = frame.find('\n', start)) != std::string::npos; start = end + 1)
            screen += frame.substr(start, end - start) + "\x1b[K\n";
        fmt::print("{}\x1b[J", screen);
    }
    std::fflush(stdout);
}

}  // namespace

Command add_watch_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand("watch", "Show status, refreshed live until Ctrl-C");
    return {sub, [&global] {
                BusClient client(global.scope());
                sd_event* raw = nullptr;
                check_event(sd_event_new(&raw), "create an event loop");
                const std::unique_ptr<sd_event, EventUnref> event(raw);
                // Ctrl-C and SIGTERM end the loop; the blocked signals arrive through signalfd.
                check_event(sd_event_add_signal(raw, nullptr, SIGINT | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr),
                            "watch for SIGINT");
                check_event(sd_event_add_signal(raw, nullptr, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr),
                            "watch for SIGTERM");
                bool stale = true;
                check_event(sd_event_add_time_relative(raw, nullptr, CLOCK_MONOTONIC, kRefreshUs, 0,
                                                       on_refresh_timer, &stale),
                            "start the refresh timer");
                client.attach(raw);
                const Subscription changes = client.on_properties_changed([&stale] { stale = true; });

                const bool terminal = is_terminal(stdout);
                while (sd_event_get_state(raw) != SD_EVENT_FINISHED) {
                    if (stale) {
                        draw(client, global.json, terminal);
                        stale = false;
                    }
                    check_event(sd_event_run(raw, UINT64_MAX), "run the event loop");
                    client.rethrow_handler_error();
                }
            }};
}

}  // namespace healctl
