#include <catch2/catch.hpp>

#include <string>

#include "detection/http_status.hpp"

using namespace heal;
using Parse = StatusLine::Parse;

TEST_CASE("probe http status line: complete lines give their status", "[probe]") {
    CHECK(parse_status_line("HTTP/1.1 200 OK\r\n").parse == Parse::complete);
    CHECK(parse_status_line("HTTP/1.1 200 OK\r\n").status == 200);
    CHECK(parse_status_line("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n").status == 503);
    CHECK(parse_status_line("HTTP/1.1 204 \r\n").status == 204);  // an empty reason
    CHECK(parse_status_line("HTTP/1.1 301\r\n").status == 301);   // no reason at all
    CHECK(parse_status_line("HTTP/1.1 404 Not\tFound \xe9\r\n").status == 404);  // HTAB and obs-text
    CHECK(parse_status_line("HTTP/1.1 100 Continue\r\n").status == 100);
    CHECK(parse_status_line("HTTP/1.1 599 x\r\n").status == 599);
}

TEST_CASE("probe http status line: every prefix of a good line is incomplete", "[probe]") {
    const std::string line = "HTTP/1.1 200 OK\r\n";
    for (std::size_t size = 0; size < line.size(); ++size) {
        INFO(size);
        CHECK(parse_status_line(std::string_view(line).substr(0, size)).parse == Parse::incomplete);
    }
}

TEST_CASE("probe http status line: anything else is malformed", "[probe]") {
    for (const std::string_view bytes :
         {"HTTP/2 200 OK\r\n", "HTTP/1.2 200 OK\r\n", "http/1.1 200 OK\r\n", "HTTP/1.1  200 OK\r\n",
          "HTTP/1.1 20 OK\r\n", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 099 OK\r\n", "HTTP/1.1 600 OK\r\n",
          "HTTP/1.1 200OK\r\n", "HTTP/1.1 200 OK\n", "HTTP/1.1 200 OK\rX", "HTTP/1.1 200 O\x01K\r\n",
          "SSH-2.0-OpenSSH_9.2\r\n", "\r\n", "HTTP/1.1 2x0 OK\r\n"}) {
        INFO(std::string(bytes));
        CHECK(parse_status_line(bytes).parse == Parse::malformed);
    }
}

TEST_CASE("probe http status line: a line end must come within kMaxStatusLine bytes", "[probe]") {
    const std::string start = "HTTP/1.1 200 ";
    CHECK(parse_status_line(start + std::string(kMaxStatusLine - start.size() - 1, 'x')).parse ==
          Parse::incomplete);
    CHECK(parse_status_line(start + std::string(kMaxStatusLine - start.size(), 'x')).parse == Parse::malformed);
    CHECK(parse_status_line(start + std::string(kMaxStatusLine - start.size() - 1, 'x') + "\r").parse ==
          Parse::malformed);
    CHECK(parse_status_line(start + std::string(kMaxStatusLine - start.size() - 2, 'x') + "\r\n").parse ==
          Parse::complete);
}
