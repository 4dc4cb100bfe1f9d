#pragma once
// How healctl fails: one sentence for stderr and a documented exit status.
#include <stdexcept>
#include <string>
#include <string_view>

namespace healctl {

// Exit statuses, documented in docs/man/healctl.1 (EXIT STATUS); scripts rely on them.
enum class Exit : int {
    ok = 0,
    failed = 1,       // the operation ran and failed, or was refused
    usage = 2,        // bad command line or arguments (nothing was changed)
    unreachable = 3,  // no bus, or healerd is not on it
};

// An empty sentence exits with `code` silently: for is-failed the exit status
// is the answer, not an error.
class CtlError : public std::runtime_error {
public:
    CtlError(Exit code, const std::string& sentence) : std::runtime_error(sentence), code_(code) {}
    Exit code() const { return code_; }

private:
    Exit code_;
};

// Daemon messages are phrases; healctl prints whole sentences.
inline std::string as_sentence(std::string text) {
    if (!text.empty() && std::string_view(".!?").find(text.back()) == std::string_view::npos) text += '.';
    return text;
}

}  // namespace healctl
