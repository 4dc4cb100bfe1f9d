#pragma once
// The status line of an HTTP/1 response, all an http probe reads. A pure
// function on the bytes received so far, so it can be fuzzed and so the
// probe can stop reading as soon as it has an answer.
#include <cstddef>
#include <string_view>

namespace heal {

struct StatusLine {
    enum class Parse {
        incomplete,  // a valid start: read more
        malformed,   // not an HTTP/1.0 or 1.1 status line (or longer than kMaxStatusLine)
        complete,
    };
    Parse parse = Parse::incomplete;
    int status = 0;  // 100-599 when complete
};

// Longer than any real status line; a peer that sends more without a line
// end is not speaking HTTP.
inline constexpr std::size_t kMaxStatusLine = 512;

// Strict RFC 9112: "HTTP/1.0" or "HTTP/1.1", one space, three digits
// (100-599), then a space and a reason phrase (which may be empty) or
// nothing, then CRLF. `bytes` is what was received from the start.
StatusLine parse_status_line(std::string_view bytes);

}  // namespace heal
