#include "detection/http_status.hpp"

namespace heal {

StatusLine parse_status_line(std::string_view bytes) {
    using Parse = StatusLine::Parse;
    constexpr std::string_view version = "HTTP/1.";
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    // The fixed-shape start, "HTTP/1.x NNN", one byte at a time: a prefix of
    // it is incomplete, a wrong byte is malformed.
    for (std::size_t i = 0; i < 12; ++i) {
        if (i == bytes.size()) return {Parse::incomplete};
        const char c = bytes[i];
        const bool ok = i < 7     ? c == version[i]
                        : i == 7  ? c == '0' || c == '1'
                        : i == 8  ? c == ' '
                        : i == 9  ? c >= '1' && c <= '5'
                                  : digit(c);
        if (!ok) return {Parse::malformed};
    }
    const int status = (bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0');
    // Then " reason" or nothing, up to CRLF. The reason is HTAB, SP and
    // visible characters (obs-text included); no other control character.
    for (std::size_t i = 12; i < bytes.size() && i < kMaxStatusLine; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '\r') {
            if (i + 1 == bytes.size()) break;
            return bytes[i + 1] == '\n' ? StatusLine{Parse::complete, status} : StatusLine{Parse::malformed};
        }
        if (i == 12 && c != ' ') return {Parse::malformed};
        if (c != '\t' && (c < ' ' || c == 0x7f)) return {Parse::malformed};
    }
    // No line end yet: the reader stops at kMaxStatusLine bytes.
    return {bytes.size() < kMaxStatusLine ? Parse::incomplete : Parse::malformed};
}

}  // namespace heal
