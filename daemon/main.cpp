// healerd: samples, detects, recovers and learns; serves org.healerd.Healer1.
// main() only wires: command line, configuration, the sd-event loop with its
// signals and watchdog, the bus, and sd_notify.
#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus.hpp"
#include "config/config.hpp"
#include "core/idle_memory.hpp"
#include "log.hpp"
#include "service.hpp"

namespace {

using namespace healerd;

constexpr int kExitUsage = 2;

struct CommandLine {
    bool user = false;
    bool simulated = false;
    bool simulated_metrics = false;
    bool verify_config = false;
    std::string config;
    std::string state_dir;
};

ServiceOptions service_options(const CommandLine& line) {
    ServiceOptions options;
    options.user_bus = line.user;
    options.simulated = line.simulated;
    options.simulated_metrics = line.simulated_metrics;
    options.config_required = !line.config.empty();
    // --user runs unprivileged, so its defaults are the user's XDG directories.
    options.config_path = line.config.empty() ? heal::default_config_path(line.user) : std::filesystem::path(line.config);
    options.state_dir = line.state_dir.empty() ? heal::default_state_directory(line.user) : std::filesystem::path(line.state_dir);
    return options;
}

// --verify-config, like `nginx -t`: reads the configuration as a start or a
// SIGHUP would, and says whether healerd would take it.
int verify_config(const ServiceOptions& options) {
    try {
        const heal::Config config = heal::load_config(options.config_path, options.config_required);
        fmt::print("healerd: {} is valid: {} watched unit(s), {} with settings in {}\n",
                   options.config_path.string(), config.units.size(), config.unit_settings.size(),
                   heal::unit_settings_directory(options.config_path).string());
        return EXIT_SUCCESS;
    } catch (const heal::ConfigError& e) {
        fmt::print(stderr, "healerd: {}\n", e.what());
        return EXIT_FAILURE;
    }
}

int on_terminate(sd_event_source* source, const signalfd_siginfo* info, void*) {
    log_info(fmt::format("received SIG{}, shutting down", sigabbrev_np(static_cast<int>(info->ssi_signo))));
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

int on_reload(sd_event_source*, const signalfd_siginfo*, void* service) {
    static_cast<Service*>(service)->reload();
    heal::release_idle_memory();
    return 0;
}

// Runs when the loop is asked to exit, before sd-bus's own exit handler
// closes the connection, so replies and signals from the wind-down still go out.
int on_exit(sd_event_source*, void* service) {
    sd_notify(0, "STOPPING=1");
    static_cast<Service*>(service)->shutdown();
    return 0;
}

int on_watchdog(sd_event_source* source, std::uint64_t usec, void* interval) {
    sd_notify(0, "WATCHDOG=1");
    sd_event_source_set_time(source, usec + *static_cast<std::uint64_t*>(interval));
    return sd_event_source_set_enabled(source, SD_EVENT_ON);
}

struct EventDeleter {
    void operator()(sd_event* event) const { sd_event_unref(event); }
};
struct SourceDeleter {
    void operator()(sd_event_source* source) const { sd_event_source_unref(source); }
};
struct BusDeleter {
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};

int check(int r, const char* what) {
    if (r < 0) throw std::system_error(-r, std::generic_category(), what);
    return r;
}

// The sampler keeps a few files open per watched unit (KernelFile). Nothing
// here uses select(), so the soft limit (1024 under systemd) may go up to the
// hard one, as systemd advises; long Units= lists then cannot run out.
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        log_warning(fmt::format("cannot raise the open-file limit: {}", std::strerror(errno)));
}

int run(const ServiceOptions& options) {
    raise_open_file_limit();
    heal::Config config;
    try {
        config = heal::load_config(options.config_path, options.config_required);
    } catch (const heal::ConfigError& e) {
        log(LOG_ERR, message_id::config_error, e.what(),
            {{"CONFIG_FILE", e.file().string()}, {"CONFIG_LINE", std::to_string(e.line())}});
        return EXIT_FAILURE;
    }

    std::error_code ec;
    std::filesystem::create_directories(options.state_dir, ec);
    if (ec) {
        log_error(fmt::format("cannot create the state directory {}: {}", options.state_dir.string(), ec.message()));
        return EXIT_FAILURE;
    }

    // Signals are handled by the loop; block them before any thread starts
    // so worker threads inherit the mask.
    sigset_t handled;
    sigemptyset(&handled);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, signal);
    check(-pthread_sigmask(SIG_BLOCK, &handled, nullptr), "block signals");

    sd_event* raw_event = nullptr;
    check(sd_event_default(&raw_event), "create the event loop");
    std::unique_ptr<sd_event, EventDeleter> event(raw_event);

    std::unique_ptr<Service> service;
    try {
        service = std::make_unique<Service>(event.get(), options, std::move(config));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot open the database: {}", e.what()));
        return EXIT_FAILURE;
    } catch (const std::exception& e) {
        log_error(fmt::format("cannot start: {}", e.what()));
        return EXIT_FAILURE;
    }

    check(sd_event_add_signal(event.get(), nullptr, SIGTERM, on_terminate, nullptr), "handle SIGTERM");
    check(sd_event_add_signal(event.get(), nullptr, SIGINT, on_terminate, nullptr), "handle SIGINT");
    check(sd_event_add_signal(event.get(), nullptr, SIGHUP, on_reload, service.get()), "handle SIGHUP");
    sd_event_source* raw_exit = nullptr;
    check(sd_event_add_exit(event.get(), &raw_exit, on_exit, service.get()), "handle exit");
    std::unique_ptr<sd_event_source, SourceDeleter> exit_source(raw_exit);
    check(sd_event_source_set_priority(exit_source.get(), SD_EVENT_PRIORITY_IMPORTANT), "order the exit handler");

    sd_bus* raw_bus = nullptr;
    const int opened = options.user_bus ? sd_bus_open_user(&raw_bus) : sd_bus_open_system(&raw_bus);
    if (opened < 0) {
        log_error(fmt::format("cannot connect to the {} bus: {}", options.user_bus ? "session" : "system",
                              std::generic_category().message(-opened)));
        return EXIT_FAILURE;
    }
    std::unique_ptr<sd_bus, BusDeleter> bus(raw_bus);
    check(sd_bus_attach_event(bus.get(), event.get(), SD_EVENT_PRIORITY_NORMAL), "attach the bus");
    // The bus gone means nobody can reach us: exit (non-zero) and let systemd restart.
    check(sd_bus_set_exit_on_disconnect(bus.get(), 1), "exit on disconnect");
    auto object = std::make_unique<BusObject>(bus.get(), *service);
    service->set_events(object.get());

    const int named = sd_bus_request_name(bus.get(), kBusName, 0);
    if (named < 0) {
        log_error(fmt::format("cannot own the bus name {}: {}", kBusName,
                              named == -EEXIST ? "another healerd is running" : std::generic_category().message(-named)));
        return EXIT_FAILURE;
    }

    std::uint64_t watchdog_usec = 0;
    std::uint64_t watchdog_interval = 0;
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
        watchdog_interval = watchdog_usec / 2;
        std::uint64_t now = 0;
        check(sd_event_now(event.get(), CLOCK_MONOTONIC, &now), "read the clock");
        check(sd_event_add_time(event.get(), nullptr, CLOCK_MONOTONIC, now + watchdog_interval, 0, on_watchdog,
                                &watchdog_interval),
              "arm the watchdog");
    }

    service->start();
    sd_notifyf(0, "READY=1\nSTATUS=%s", service->status_line().c_str());
    log_info(fmt::format("started: {} bus, {} backend, config {}, state {}", options.user_bus ? "session" : "system",
                         service->state().backend, options.config_path.string(), options.state_dir.string()));
    // Starting touched far more code than the loop will; drop those pages.
    heal::release_idle_memory();

    const int r = sd_event_loop(event.get());
    service->set_events(nullptr);
    object.reset();
    bus.reset();
    // sd-bus ends the loop with EXIT_FAILURE when the bus goes away.
    if (r != 0) {
        log_error(r < 0 ? fmt::format("event loop failed: {}", std::generic_category().message(-r))
                        : std::string("lost the connection to the bus"));
        return EXIT_FAILURE;
    }
    log_info("stopped");
    return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"healerd: detects failing services and recovers them, learning which recovery works"};
    CommandLine line;
    app.add_flag("--user", line.user, "Serve on the session bus and act on the user's systemd manager");
    app.add_option("--config", line.config,
                   "Configuration file, drop-ins in FILE.d/ (default /etc/healerd/healerd.conf; "
                   "with --user $XDG_CONFIG_HOME/healerd/healerd.conf)");
    app.add_option("--state-dir", line.state_dir,
                   "Directory of the database and the model (default /var/lib/healerd; "
                   "with --user $XDG_STATE_HOME/healerd)");
    auto* simulated = app.add_flag("--simulated", line.simulated,
                                   "Simulated executors: recoveries and injected faults change nothing real");
    app.add_flag("--simulated-metrics", line.simulated_metrics,
                 "Simulate the machine's and the units' metrics too, so nothing real is read "
                 "(deterministic tests, demos)")
        ->needs(simulated);
    app.add_flag("--verify-config", line.verify_config,
                 "Check the configuration (with drop-ins and units.d/ files) and exit: 0 when healerd would take "
                 "it, 1 with FILE:LINE: and the key when not");
    app.set_version_flag("--version", HEALERD_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? EXIT_SUCCESS : kExitUsage;
    }
    if (line.verify_config) return verify_config(service_options(line));
    init_log();
    try {
        return run(service_options(line));
    } catch (const std::exception& e) {
        log_error(e.what());
        return EXIT_FAILURE;
    }
}
