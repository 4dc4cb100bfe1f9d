#pragma once
#include <string>

namespace heal {

// A target as sentences name it: "" is the whole machine.
inline std::string target_name(const std::string& unit) { return unit.empty() ? "the machine" : unit; }

}  // namespace heal
