#include "config/fault_injection.hpp"

#include <fmt/format.h>

namespace heal {

std::optional<std::string> real_fault_refusal(const Config& config, const std::filesystem::path& main_file,
                                              std::string_view unit) {
    if (config.settings_of(unit).allow_fault_injection) return std::nullopt;
    return fmt::format("{} does not allow real fault injection: to opt in, create {} with \"[Unit] "
                       "AllowFaultInjection=yes\", then reload healerd (the synthetic kind needs no opt-in)",
                       unit, (unit_settings_directory(main_file) / fmt::format("{}.conf", unit)).string());
}

}  // namespace heal
