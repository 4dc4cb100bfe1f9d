#pragma once
// Whether SimulateFailure may inject a real fault (a signal to the unit's
// main process) into a unit: only into units whose settings opt in
// ([Unit] AllowFaultInjection=yes), so a typo or a script cannot SIGSTOP a
// production service. The synthetic kind changes only healerd's view of the
// metrics and needs no opt-in.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace heal {

// std::nullopt when real faults may be injected into `unit`; otherwise the
// refusal, saying which file to create to opt in.
std::optional<std::string> real_fault_refusal(const Config& config, const std::filesystem::path& main_file,
                                              std::string_view unit);

}  // namespace heal
