#pragma once
// Blank-separated lists, as systemd-style settings write them.
#include <string_view>
#include <vector>

namespace heal {

// The words of `text`, split on spaces and tabs (no quoting); views into it.
std::vector<std::string_view> split_words(std::string_view text);

}  // namespace heal
