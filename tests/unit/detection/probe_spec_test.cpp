#include <catch2/catch.hpp>

#include <functional>

#include "support/validation.hpp"
#include "detection/probe_spec.hpp"

using namespace heal;
using namespace std::chrono_literals;
using heal::test::invalid_field;

namespace {

std::string refusal(std::string_view text) {
    try {
        parse_probe_target(text);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("probe spec: the defaults are those of Kubernetes", "[probe]") {
    const ProbeOptions options;
    CHECK(options.interval == 10s);
    CHECK(options.timeout == 1s);
    CHECK(options.failure_threshold == 3);
    CHECK(options.success_threshold == 1);
    CHECK(options.initial_delay == 0s);
    CHECK(options.expect == StatusRange{200, 399});
}

TEST_CASE("probe spec: Probe= values of each kind", "[probe]") {
    const ProbeTarget http = parse_probe_target("http http://127.0.0.1:8080/healthz?full=1");
    CHECK(http.kind == ProbeKind::http);
    CHECK(http.host == "127.0.0.1");
    CHECK(http.port == 8080);
    CHECK(http.path == "/healthz?full=1");
    CHECK(to_string(http) == "http://127.0.0.1:8080/healthz?full=1");

    const ProbeTarget bare = parse_probe_target("http   http://[::1]");
    CHECK(bare.host == "::1");
    CHECK(bare.port == 80);
    CHECK(bare.path == "/");
    CHECK(to_string(bare) == "http://[::1]/");
    CHECK(authority(bare) == "[::1]:80");

    const ProbeTarget tcp = parse_probe_target("tcp 127.0.0.1:6379");
    CHECK(tcp.kind == ProbeKind::tcp);
    CHECK(tcp.port == 6379);
    CHECK(to_string(tcp) == "127.0.0.1:6379");
    CHECK(to_string(parse_probe_target("tcp [::1]:6379")) == "[::1]:6379");

    const ProbeTarget exec = parse_probe_target("exec /usr/bin/redis-cli  -p 6379\tping");
    CHECK(exec.kind == ProbeKind::exec);
    CHECK(exec.argv == std::vector<std::string>{"/usr/bin/redis-cli", "-p", "6379", "ping"});
    CHECK(to_string(exec) == "/usr/bin/redis-cli -p 6379 ping");
}

TEST_CASE("probe spec: bad Probe= values say what is wrong", "[probe]") {
    CHECK(refusal("") == "is empty: expected tcp, http or exec and what to probe");
    CHECK(refusal("grpc 127.0.0.1:50051") == "'grpc' is not a probe kind (tcp, http or exec)");
    CHECK(refusal("tcp") == "tcp takes one address, like 127.0.0.1:6379");
    CHECK(refusal("tcp 127.0.0.1") == "'127.0.0.1' is not HOST:PORT (an IP address, [IPv6] in brackets)");
    CHECK(refusal("tcp 127.0.0.1:0") == "'127.0.0.1:0': the port must be a number from 1 to 65535");
    CHECK(refusal("tcp 127.0.0.1:65536") == "'127.0.0.1:65536': the port must be a number from 1 to 65535");
    CHECK(refusal("tcp localhost:6379") ==
          "target.host: 'localhost' is not an IP address (host names are not looked up)");
    CHECK(refusal("tcp [::1:6379") == "'[::1:6379' is not HOST:PORT (an IP address, [IPv6] in brackets)");
    CHECK(refusal("http https://127.0.0.1/") == "'https://127.0.0.1/': https is not supported (probes speak plain HTTP)");
    CHECK(refusal("http 127.0.0.1:80/") == "'127.0.0.1:80/' is not a URL like http://127.0.0.1:8080/healthz");
    CHECK(refusal("http http://127.0.0.1/a b") == "http takes one address, like http://127.0.0.1:8080/");
    CHECK(refusal("exec") == "target.argv is empty: name a command");
    CHECK(refusal("exec redis-cli ping") ==
          "target.argv: 'redis-cli' is not an absolute path (there is no shell or PATH search)");
}

TEST_CASE("probe spec: expected status ranges", "[probe]") {
    CHECK(parse_status_range("200-399") == StatusRange{200, 399});
    CHECK(parse_status_range("204") == StatusRange{204, 204});
    CHECK(StatusRange{200, 399}.contains(200));
    CHECK(StatusRange{200, 399}.contains(399));
    CHECK_FALSE(StatusRange{200, 399}.contains(199));
    CHECK_FALSE(StatusRange{200, 399}.contains(400));
    for (const char* bad : {"", "2xx", "200-", "-399", "399-200", "99", "200-600", "200 - 399"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_status_range(bad), std::invalid_argument);
    }
}

TEST_CASE("probe spec: validate names the offending field", "[probe]") {
    const ProbeSpec good{"web.service", parse_probe_target("http http://127.0.0.1:8080/"), {}, ""};
    CHECK(invalid_field(good) == "(accepted)");
    struct Case {
        std::function<void(ProbeSpec&)> change;
        std::string message;
    };
    const std::vector<Case> cases = {
        {[](ProbeSpec& s) { s.unit.clear(); }, "unit is empty"},
        {[](ProbeSpec& s) { s.target.host = "web"; }, "target.host: 'web' is not an IP address (host names are not looked up)"},
        {[](ProbeSpec& s) { s.target.port = 0; }, "target.port must be from 1 to 65535"},
        {[](ProbeSpec& s) { s.target.path = "healthz"; },
         "target.path: 'healthz' must start with '/' and hold no blanks or control characters"},
        {[](ProbeSpec& s) { s.target.path = "/a\r\nX-Injected: 1"; },
         "target.path: '/a\r\nX-Injected: 1' must start with '/' and hold no blanks or control characters"},
        {[](ProbeSpec& s) { s.options.interval = 0ms; }, "options.interval must be positive"},
        {[](ProbeSpec& s) { s.options.timeout = -1ms; }, "options.timeout must be positive"},
        {[](ProbeSpec& s) { s.options.initial_delay = -1ms; }, "options.initial_delay must not be negative"},
        {[](ProbeSpec& s) { s.options.failure_threshold = 0; }, "options.failure_threshold must be at least 1"},
        {[](ProbeSpec& s) { s.options.success_threshold = 0; }, "options.success_threshold must be at least 1"},
        {[](ProbeSpec& s) { s.options.expect = {400, 300}; },
         "options.expect 400-300 must lie within 100-599, the lower first"},
        {[](ProbeSpec& s) { s.target = ProbeTarget{ProbeKind::exec, {}, 0, {}, {"bin/true"}}; },
         "target.argv: 'bin/true' is not an absolute path (there is no shell or PATH search)"},
    };
    for (const Case& c : cases) {
        ProbeSpec spec = good;
        c.change(spec);
        CHECK(invalid_field(spec) == c.message);
    }
}

TEST_CASE("probe spec: describe names the kind, the target and the unit", "[probe]") {
    const ProbeSpec spec{"redis.service", parse_probe_target("exec /usr/bin/redis-cli ping"), {}, "redis"};
    CHECK(describe(spec) == "exec probe /usr/bin/redis-cli ping of redis.service");
}
