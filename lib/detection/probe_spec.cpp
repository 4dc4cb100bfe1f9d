#include "detection/probe_spec.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/words.hpp"

namespace heal {

namespace {

bool is_ip_address(const std::string& host) {
    in6_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1 || inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// What the request line of an HTTP/1 GET may carry: visible ASCII from '/'.
bool is_request_path(std::string_view path) {
    return path.starts_with('/') && std::all_of(path.begin(), path.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// The problem with a target, or "" when it is usable; `field` prefixes it.
std::string target_problem(const ProbeTarget& target, std::string_view field) {
    if (target.kind == ProbeKind::exec) {
        if (target.argv.empty()) return fmt::format("{}.argv is empty: name a command", field);
        if (!target.argv.front().starts_with('/'))
            return fmt::format("{}.argv: '{}' is not an absolute path (there is no shell or PATH search)", field,
                               target.argv.front());
        return {};
    }
    if (!is_ip_address(target.host))
        return fmt::format("{}.host: '{}' is not an IP address (host names are not looked up)", field, target.host);
    if (target.port == 0) return fmt::format("{}.port must be from 1 to 65535", field);
    if (target.kind == ProbeKind::http && !is_request_path(target.path))
        return fmt::format("{}.path: '{}' must start with '/' and hold no blanks or control characters", field,
                           target.path);
    return {};
}

// "HOST:PORT" or "[V6]:PORT" into `target`; the port may be left out when
// `default_port` is not 0.
void parse_host_port(std::string_view text, std::uint16_t default_port, ProbeTarget& target) {
    const auto bad = [&] {
        return std::invalid_argument(fmt::format("'{}' is not HOST:PORT (an IP address, [IPv6] in brackets)", text));
    };
    std::string_view host = text, port;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) throw bad();
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) throw bad();
        port = rest.empty() ? rest : rest.substr(1);
    } else if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty() || (port.empty() && default_port == 0)) throw bad();
    target.host = std::string(host);
    target.port = default_port;
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            throw std::invalid_argument(fmt::format("'{}': the port must be a number from 1 to 65535", text));
        target.port = static_cast<std::uint16_t>(value);
    }
}

void parse_url(std::string_view url, ProbeTarget& target) {
    constexpr std::string_view scheme = "http://";
    if (url.starts_with("https://"))
        throw std::invalid_argument(fmt::format("'{}': https is not supported (probes speak plain HTTP)", url));
    if (!url.starts_with(scheme))
        throw std::invalid_argument(fmt::format("'{}' is not a URL like http://127.0.0.1:8080/healthz", url));
    url.remove_prefix(scheme.size());
    const std::size_t slash = std::min(url.find('/'), url.size());
    parse_host_port(url.substr(0, slash), 80, target);
    target.path = slash == url.size() ? "/" : std::string(url.substr(slash));
}

// The host as a URL writes it: IPv6 in brackets.
std::string url_host(const ProbeTarget& target) {
    return target.host.find(':') == std::string::npos ? target.host : fmt::format("[{}]", target.host);
}

}  // namespace

std::string authority(const ProbeTarget& target) { return fmt::format("{}:{}", url_host(target), target.port); }

std::string_view to_string(ProbeKind kind) {
    switch (kind) {
        case ProbeKind::tcp: return "tcp";
        case ProbeKind::http: return "http";
        case ProbeKind::exec: return "exec";
    }
    return "?";
}

ProbeTarget parse_probe_target(std::string_view text) {
    const auto words = split_words(text);
    if (words.empty()) throw std::invalid_argument("is empty: expected tcp, http or exec and what to probe");
    ProbeTarget target;
    const std::string_view kind = words.front();
    if (kind == "exec") {
        target.kind = ProbeKind::exec;
        target.argv.assign(words.begin() + 1, words.end());
    } else if (kind == "tcp" || kind == "http") {
        if (words.size() != 2)
            throw std::invalid_argument(fmt::format("{} takes one address, like {}", kind,
                                                    kind == "tcp" ? "127.0.0.1:6379" : "http://127.0.0.1:8080/"));
        target.kind = kind == "tcp" ? ProbeKind::tcp : ProbeKind::http;
        if (target.kind == ProbeKind::tcp)
            parse_host_port(words[1], 0, target);
        else
            parse_url(words[1], target);
    } else {
        throw std::invalid_argument(fmt::format("'{}' is not a probe kind (tcp, http or exec)", kind));
    }
    if (const std::string problem = target_problem(target, "target"); !problem.empty())
        throw std::invalid_argument(problem);
    return target;
}

std::string to_string(const ProbeTarget& target) {
    switch (target.kind) {
        case ProbeKind::tcp: return authority(target);
        case ProbeKind::http:
            return fmt::format("http://{}{}", target.port == 80 ? url_host(target) : authority(target), target.path);
        case ProbeKind::exec: return fmt::format("{}", fmt::join(target.argv, " "));
    }
    return {};
}

StatusRange parse_status_range(std::string_view text) {
    const auto number = [&](std::string_view digits) {
        int value = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
            throw std::invalid_argument(fmt::format("'{}' is not a status or a range like 200-399", text));
        return value;
    };
    const std::size_t dash = text.find('-');
    StatusRange range;
    range.low = number(text.substr(0, dash));
    range.high = dash == std::string_view::npos ? range.low : number(text.substr(dash + 1));
    if (range.low < 100 || range.high > 599 || range.low > range.high)
        throw std::invalid_argument(fmt::format("'{}': statuses run from 100 to 599, the lower first", text));
    return range;
}

void ProbeSpec::validate() const {
    const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
    if (unit.empty()) fail("unit is empty");
    if (const std::string problem = target_problem(target, "target"); !problem.empty()) fail(problem);
    if (options.interval.count() <= 0) fail("options.interval must be positive");
    if (options.timeout.count() <= 0) fail("options.timeout must be positive");
    if (options.initial_delay.count() < 0) fail("options.initial_delay must not be negative");
    if (options.failure_threshold == 0) fail("options.failure_threshold must be at least 1");
    if (options.success_threshold == 0) fail("options.success_threshold must be at least 1");
    if (options.expect.low < 100 || options.expect.high > 599 || options.expect.low > options.expect.high)
        fail(fmt::format("options.expect {}-{} must lie within 100-599, the lower first", options.expect.low,
                         options.expect.high));
}

std::string describe(const ProbeSpec& spec) {
    return fmt::format("{} probe {} of {}", to_string(spec.target.kind), to_string(spec.target), spec.unit);
}

}  // namespace heal
