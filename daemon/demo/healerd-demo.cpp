// healerd-demo: a small service that healerd can break on purpose and heal,
// so an operator can watch a recovery without harming a real service.
//
// Healthy, it idles and pings systemd's watchdog. `healctl simulate-failure`
// breaks it with a signal (systemd/systemd_failure_injector.hpp):
//   cpu_runaway  SIGUSR1: spins --spin-threads threads (default: one per CPU;
//                more make it show even on a busy machine) until restarted;
//   memory_leak  SIGUSR2: leaks --leak-step-mib every tick up to
//                --leak-limit-mib, then holds it (bounded, so the demo is
//                deterministic where the cgroup memory limit is not enforced);
//   hang         SIGSTOP: no more watchdog pings, so systemd kills it after
//                WatchdogSec=;
//   crash        SIGKILL.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "systemd/systemd_failure_injector.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using heal::FaultMode;
using heal::fault_signal;

struct Options {
    std::size_t leak_step_mib = 8;
    std::size_t leak_limit_mib = 96;
    int tick_ms = 100;
    unsigned spin_threads = std::max(1u, std::thread::hardware_concurrency());
};

// Lines go to stdout, which systemd connects to the journal; the <N> prefix
// is the syslog priority journald reads.
template <typename... Args>
void log(int priority, fmt::format_string<Args...> format, Args&&... args) {
    fmt::print("<{}>{}\n", priority, fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stdout);
}

// Blocks the signals the demo handles and returns a signalfd reading them,
// so they are handled in the main loop rather than in a signal handler.
int open_signal_fd() {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGTERM, SIGINT, fault_signal(FaultMode::cpu_runaway), fault_signal(FaultMode::memory_leak)}) {
        sigaddset(&set, signal);
    }
    if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) throw std::runtime_error(std::string("sigprocmask: ") + std::strerror(errno));
    const int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    return fd;
}

class Demo {
public:
    explicit Demo(const Options& options) : options_(options), signal_fd_(open_signal_fd()) {
        uint64_t watchdog_usec = 0;
        if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
            // Ping at a quarter of the timeout: late enough to be cheap, early
            // enough that a slow tick never trips it.
            watchdog_interval_ = std::chrono::microseconds(watchdog_usec / 4);
        }
    }

    int run() {
        sd_notify(0, "READY=1\nSTATUS=healthy");
        log(6, "healerd-demo: healthy (pid {})", getpid());
        while (!stopping_) {
            wait_for_signals(std::chrono::milliseconds(options_.tick_ms));
            if (leaking_) leak_step();
            ping_watchdog();
        }
        sd_notify(0, "STOPPING=1");
        log(6, "healerd-demo: stopping");
        return 0;
    }

private:
    // Busy threads, so the main loop keeps answering signals and the watchdog:
    // a runaway, not a hang.
    void start_spinning() {
        if (!spinners_.empty()) return;
        for (unsigned i = 0; i < options_.spin_threads; ++i) {
            spinners_.emplace_back([](std::stop_token stop) {
                volatile std::uint64_t sink = 0;
                while (!stop.stop_requested()) {
                    for (int j = 0; j < 100000; ++j) sink = sink + static_cast<std::uint64_t>(j);
                }
            });
        }
    }

    void wait_for_signals(std::chrono::milliseconds timeout) {
        pollfd pfd{signal_fd_, POLLIN, 0};
        if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return;
        signalfd_siginfo info{};
        while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            handle(static_cast<int>(info.ssi_signo));
            if (stopping_) return;
            pfd.revents = 0;
            if (poll(&pfd, 1, 0) <= 0) return;
        }
    }

    void handle(int signal) {
        if (signal == SIGTERM || signal == SIGINT) {
            stopping_ = true;
        } else if (signal == fault_signal(FaultMode::cpu_runaway)) {
            log(4, "healerd-demo: failure injected: cpu_runaway (spinning {} threads)", options_.spin_threads);
            sd_notifyf(0, "STATUS=cpu_runaway: spinning %u threads", options_.spin_threads);
            start_spinning();
        } else if (signal == fault_signal(FaultMode::memory_leak)) {
            log(4, "healerd-demo: failure injected: memory_leak (up to {} MiB)", options_.leak_limit_mib);
            leaking_ = true;
        }
    }

    void leak_step() {
        if (leaked_mib_ >= options_.leak_limit_mib) return;
        const std::size_t step = std::min(options_.leak_step_mib, options_.leak_limit_mib - leaked_mib_);
        auto block = std::make_unique<char[]>(step << 20);
        std::memset(block.get(), 0x5a, step << 20);  // touch every page so it counts as resident
        leaked_.push_back(std::move(block));
        leaked_mib_ += step;
        sd_notifyf(0, "STATUS=memory_leak: %zu MiB leaked", leaked_mib_);
        if (leaked_mib_ == options_.leak_limit_mib) log(4, "healerd-demo: leaked {} MiB, holding it", leaked_mib_);
    }

    void ping_watchdog() {
        if (watchdog_interval_.count() == 0) return;
        const auto now = Clock::now();
        if (now - last_ping_ < watchdog_interval_) return;
        sd_notify(0, "WATCHDOG=1");
        last_ping_ = now;
    }

    Options options_;
    int signal_fd_;
    std::chrono::microseconds watchdog_interval_{0};
    Clock::time_point last_ping_{};
    bool stopping_ = false;
    bool leaking_ = false;
    std::size_t leaked_mib_ = 0;
    std::vector<std::unique_ptr<char[]>> leaked_;
    std::vector<std::jthread> spinners_;  // stopped and joined on destruction
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"healerd-demo: a service to break on purpose and let healerd heal"};
    Options options;
    app.add_option("--leak-step-mib", options.leak_step_mib, "MiB leaked per tick in memory_leak mode")
        ->check(CLI::Range(1, 1024));
    app.add_option("--leak-limit-mib", options.leak_limit_mib, "MiB at which the leak stops and holds")
        ->check(CLI::Range(1, 65536));
    app.add_option("--tick-ms", options.tick_ms, "main loop period in milliseconds")->check(CLI::Range(10, 10000));
    app.add_option("--spin-threads", options.spin_threads, "busy threads in cpu_runaway mode")
        ->envname("HEALERD_DEMO_SPIN_THREADS")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        return Demo(options).run();
    } catch (const std::exception& error) {
        log(3, "healerd-demo: {}", error.what());
        return 1;
    }
}
