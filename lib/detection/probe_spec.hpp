#pragma once
// What a health probe asks of a unit, with Kubernetes liveness-probe
// semantics: every `interval` (periodSeconds) one attempt that must succeed
// within `timeout` (timeoutSeconds); `failure_threshold` failures in a row
// make the probe fail, `success_threshold` successes in a row make it
// healthy again; nothing runs before `initial_delay` (initialDelaySeconds).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heal {

enum class ProbeKind { tcp, http, exec };

std::string_view to_string(ProbeKind kind);

// What one probe checks: an address (tcp, http) or a command (exec).
struct ProbeTarget {
    ProbeKind kind = ProbeKind::tcp;
    // tcp, http: an IP address literal (no DNS: a lookup would block the
    // loop), without brackets for IPv6, and a port.
    std::string host;
    std::uint16_t port = 0;
    std::string path;               // http: from '/', query included
    std::vector<std::string> argv;  // exec: an absolute path, then its arguments

    bool operator==(const ProbeTarget&) const = default;
};

// The text of a Probe= value: "tcp 127.0.0.1:6379", "tcp [::1]:6379",
// "http http://127.0.0.1:8080/healthz" (port 80 and path / by default),
// "exec /usr/bin/redis-cli ping" (split on blanks, no quoting). Throws
// std::invalid_argument saying what is wrong.
ProbeTarget parse_probe_target(std::string_view text);

// For operators: "127.0.0.1:6379", "http://127.0.0.1:8080/healthz",
// "/usr/bin/redis-cli ping".
std::string to_string(const ProbeTarget& target);

// A tcp or http target's host and port as HTTP's Host header writes them:
// "127.0.0.1:8080", "[::1]:8080".
std::string authority(const ProbeTarget& target);

// HTTP statuses counted as success, both ends included.
struct StatusRange {
    int low = 200;
    int high = 399;

    bool contains(int status) const { return status >= low && status <= high; }
    bool operator==(const StatusRange&) const = default;
};

// "200-399" or "204"; throws std::invalid_argument unless 100 <= low <= high <= 599.
StatusRange parse_status_range(std::string_view text);

// Kubernetes' defaults, except that success_threshold may exceed 1 (a
// liveness probe in Kubernetes must have 1; here it asks a failing service
// to prove itself more than once).
struct ProbeOptions {
    std::chrono::milliseconds interval{10'000};  // periodSeconds
    std::chrono::milliseconds timeout{1'000};    // timeoutSeconds
    std::uint32_t failure_threshold = 3;         // failureThreshold
    std::uint32_t success_threshold = 1;         // successThreshold
    std::chrono::milliseconds initial_delay{0};  // initialDelaySeconds
    StatusRange expect;                          // http only

    bool operator==(const ProbeOptions&) const = default;
};

struct ProbeSpec {
    std::string unit;  // the unit the probe speaks for
    ProbeTarget target;
    ProbeOptions options;
    // exec: run as this user when healerd runs as root (the unit's User=);
    // "" or a non-root healerd runs it as healerd's own user.
    std::string user;

    // Throws std::invalid_argument naming the offending field.
    void validate() const;
    bool operator==(const ProbeSpec&) const = default;
};

// "http probe http://127.0.0.1:8080/healthz of web.service"
std::string describe(const ProbeSpec& spec);

}  // namespace heal
