#pragma once
// What the probe tests run against: an sd-event loop driven until a
// condition holds (or a deadline passes, which the test then reports), and
// endpoints on 127.0.0.1 at ephemeral ports, served by the same loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <systemd/sd-event.h>

#include "detection/probe_runner.hpp"
#include "detection/probe_spec.hpp"

namespace heal::test {

class EventLoop {
public:
    EventLoop() {
        if (sd_event_new(&event_) < 0) throw std::runtime_error("sd_event_new failed");
    }
    ~EventLoop() { sd_event_unref(event_); }
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    sd_event* get() const { return event_; }

    // Runs the loop until `done()` holds; false if `deadline` passed first.
    // The deadline only bounds a broken test: no assertion is about time.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds deadline = std::chrono::milliseconds(1500)) {
        const auto end = std::chrono::steady_clock::now() + deadline;
        while (!done()) {
            const auto left = end - std::chrono::steady_clock::now();
            if (left <= left.zero()) return false;
            if (sd_event_run(event_, static_cast<uint64_t>(
                                         std::chrono::duration_cast<std::chrono::microseconds>(left).count())) < 0)
                throw std::runtime_error("sd_event_run failed");
        }
        return true;
    }

    // sd-event opens its timerfd with the first timer and keeps it: open it
    // before counting fds.
    void create_timer_fd() {
        if (sd_event_add_time_relative(event_, nullptr, CLOCK_MONOTONIC, UINT64_C(3600000000), 0, nullptr, nullptr) < 0)
            throw std::runtime_error("cannot add a timer");
    }

private:
    sd_event* event_ = nullptr;
};

// A TCP socket bound to 127.0.0.1 at a port the kernel picks; listening or
// not (then connecting to its port is refused, and nothing else can take it).
class LocalSocket {
public:
    explicit LocalSocket(bool listening) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            (listening && listen(fd_, 16) != 0) ||
            getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            throw std::runtime_error("cannot make a local socket");
        port_ = ntohs(address.sin_port);
    }
    ~LocalSocket() { close(fd_); }
    LocalSocket(const LocalSocket&) = delete;
    LocalSocket& operator=(const LocalSocket&) = delete;
    int fd() const { return fd_; }
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// An HTTP server on the loop: answers each request (once its header has
// arrived) with the next of `statuses`, the last one repeated, then closes.
class HttpResponder {
public:
    HttpResponder(sd_event* event, std::vector<int> statuses) : event_(event), statuses_(std::move(statuses)) {
        if (sd_event_add_io(event, &listener_, socket_.fd(), EPOLLIN, &HttpResponder::on_accept, this) < 0)
            throw std::runtime_error("cannot watch the listener");
    }
    ~HttpResponder() {
        for (auto& connection : connections_) {
            sd_event_source_disable_unref(connection->source);
            close(connection->fd);
        }
        sd_event_source_disable_unref(listener_);
    }
    HttpResponder(const HttpResponder&) = delete;
    HttpResponder& operator=(const HttpResponder&) = delete;
    std::string url(const std::string& path = "/healthz") const { return "http://" + socket_.address() + path; }
    int answered() const { return answered_; }
    const std::string& last_request() const { return last_request_; }

private:
    struct Connection {
        HttpResponder* server;
        int fd;
        std::string request;
        sd_event_source* source = nullptr;
    };

    static int on_accept(sd_event_source*, int fd, uint32_t, void* self) {
        auto* server = static_cast<HttpResponder*>(self);
        const int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) return 0;
        auto connection = std::make_unique<Connection>(Connection{server, client, {}});
        sd_event_add_io(server->event_, &connection->source, client, EPOLLIN, &HttpResponder::on_read,
                        connection.get());
        server->connections_.push_back(std::move(connection));
        return 0;
    }

    // Reads the whole request before answering: closing on unread bytes
    // would reset the connection under the client's feet.
    static int on_read(sd_event_source*, int fd, uint32_t, void* self) {
        auto* connection = static_cast<Connection*>(self);
        char buffer[1024];
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n > 0) connection->request.append(buffer, static_cast<std::size_t>(n));
        if (n > 0 && connection->request.find("\r\n\r\n") == std::string::npos) return 0;
        HttpResponder& server = *connection->server;
        if (n > 0) {
            const std::size_t index = std::min<std::size_t>(server.answered_, server.statuses_.size() - 1);
            const std::string response = "HTTP/1.1 " + std::to_string(server.statuses_[index]) +
                                         " Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            [[maybe_unused]] const ssize_t written = write(fd, response.data(), response.size());
            ++server.answered_;
            server.last_request_ = connection->request;
        }
        sd_event_source_set_enabled(connection->source, SD_EVENT_OFF);
        shutdown(fd, SHUT_WR);
        return 0;
    }

    sd_event* event_;
    std::vector<int> statuses_;
    LocalSocket socket_{true};
    sd_event_source* listener_ = nullptr;
    std::vector<std::unique_ptr<Connection>> connections_;
    int answered_ = 0;
    std::string last_request_;
};

// Options for tests: a probe every 10 ms with a 200 ms timeout.
inline ProbeOptions fast_options() {
    ProbeOptions options;
    options.interval = std::chrono::milliseconds(10);
    options.timeout = std::chrono::milliseconds(200);
    return options;
}

// A spec for `unit` from a Probe= value.
inline ProbeSpec probe(const std::string& target, ProbeOptions options = fast_options(),
                       const std::string& unit = "web.service") {
    return ProbeSpec{unit, parse_probe_target(target), options, ""};
}

}  // namespace heal::test

namespace heal::test {

// The open file descriptors of this process, to show none leaked.
inline std::size_t open_fds() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
    return count;
}

// Health changes a runner reported, in order.
struct Changes {
    std::vector<std::pair<std::string, ProbeHealth>> seen;  // {describe(spec), health}
    ProbeRunner::OnChange callback() {
        return [this](const ProbeSpec& spec, const ProbeState& state) { seen.emplace_back(describe(spec), state.health()); };
    }
};

}  // namespace heal::test
