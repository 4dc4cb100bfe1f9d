// tcp and http attempts: a non-blocking connect watched by the loop; http
// then sends one GET and reads no more than the status line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "detection/http_status.hpp"
#include "detection/probe_attempt.hpp"

namespace heal {

namespace {

class SocketAttempt final : public ProbeAttempt {
public:
    SocketAttempt(sd_event* event, const ProbeSpec& spec, Done done)
        : ProbeAttempt(event, spec.options.timeout, std::move(done)), expect_(spec.options.expect) {
        if (spec.target.kind == ProbeKind::http)
            request_ = fmt::format(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: healerd-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                spec.target.path, authority(spec.target));
        if (const auto problem = connect_to(spec.target)) finish_soon(*problem);
    }

    ~SocketAttempt() override {
        sd_event_source_disable_unref(io_);
        if (fd_ >= 0) close(fd_);
    }

private:
    // Starts connecting; what went wrong, if anything did.
    std::optional<std::string> connect_to(const ProbeTarget& target) {
        sockaddr_in6 v6{};
        sockaddr_in v4{};
        const sockaddr* address = reinterpret_cast<const sockaddr*>(&v4);
        socklen_t length = sizeof v4;
        if (inet_pton(AF_INET, target.host.c_str(), &v4.sin_addr) == 1) {
            v4.sin_family = AF_INET;
            v4.sin_port = htons(target.port);
        } else {
            inet_pton(AF_INET6, target.host.c_str(), &v6.sin6_addr);  // validate() checked it
            v6.sin6_family = AF_INET6;
            v6.sin6_port = htons(target.port);
            address = reinterpret_cast<const sockaddr*>(&v6);
            length = sizeof v6;
        }
        fd_ = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return fmt::format("cannot open a socket: {}", error_text(errno));
        if (connect(fd_, address, length) < 0 && errno != EINPROGRESS) return error_text(errno);
        const int r = sd_event_add_io(event(), &io_, fd_, EPOLLOUT, &SocketAttempt::on_io, this);
        if (r < 0) return fmt::format("cannot watch the socket: {}", error_text(-r));
        return std::nullopt;
    }

    void on_timeout() override { finish(false, "timed out"); }

    static int on_io(sd_event_source*, int, uint32_t, void* self) {
        auto* attempt = static_cast<SocketAttempt*>(self);
        if (!attempt->connected_)
            attempt->on_connect();
        else if (attempt->sent_ < attempt->request_.size())
            attempt->send_request();
        else
            attempt->receive();
        return 0;
    }

    void on_connect() {
        int error = 0;
        socklen_t length = sizeof error;
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) < 0) error = errno;
        if (error != 0) return finish(false, error_text(error));
        connected_ = true;
        if (request_.empty()) return finish(true);  // tcp: connecting is all
        send_request();
    }

    void send_request() {
        const ssize_t n = send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;  // the loop calls again
            return finish(false, fmt::format("cannot send the request: {}", error_text(errno)));
        }
        sent_ += static_cast<std::size_t>(n);
        if (sent_ == request_.size()) sd_event_source_set_io_events(io_, EPOLLIN);
    }

    // Reads at most kMaxStatusLine bytes in all: the parser decides on less.
    void receive() {
        char buffer[kMaxStatusLine];
        const ssize_t n = recv(fd_, buffer, kMaxStatusLine - received_.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            return finish(false, error_text(errno));
        }
        if (n == 0) return finish(false, "connection closed before the status line");
        received_.append(buffer, static_cast<std::size_t>(n));
        const StatusLine line = parse_status_line(received_);
        switch (line.parse) {
            case StatusLine::Parse::incomplete: return;
            case StatusLine::Parse::malformed: return finish(false, "not an HTTP/1 status line");
            case StatusLine::Parse::complete:
                if (expect_.contains(line.status)) return finish(true);
                return finish(false, fmt::format("HTTP {}, expected {}-{}", line.status, expect_.low, expect_.high));
        }
    }

    StatusRange expect_;
    std::string request_;  // empty for tcp
    int fd_ = -1;
    sd_event_source* io_ = nullptr;
    bool connected_ = false;
    std::size_t sent_ = 0;
    std::string received_;
};

}  // namespace

std::unique_ptr<ProbeAttempt> start_socket_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done) {
    return std::make_unique<SocketAttempt>(event, spec, std::move(done));
}

}  // namespace heal
