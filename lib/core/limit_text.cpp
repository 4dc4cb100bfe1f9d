#include "core/limit_text.hpp"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace heal {

std::string format_bytes(std::uint64_t bytes) {
    static constexpr std::array<char, 6> kSuffixes{'K', 'M', 'G', 'T', 'P', 'E'};
    if (bytes < 1024) return fmt::format("{}B", bytes);
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t index = 0;
    while (value >= 1024.0 && index + 1 < kSuffixes.size()) {
        value /= 1024.0;
        ++index;
    }
    // One decimal, dropped when it is zero, as systemctl show does.
    const double tenths = std::round(value * 10.0) / 10.0;
    if (tenths == std::floor(tenths)) return fmt::format("{:.0f}{}", tenths, kSuffixes[index]);
    return fmt::format("{:.1f}{}", tenths, kSuffixes[index]);
}

std::string limit_name(const std::string& property) {
    return property == "CPUQuotaPerSecUSec" ? "CPUQuota" : property;
}

std::string format_limit(const std::string& property, std::uint64_t value) {
    if (value == std::numeric_limits<std::uint64_t>::max()) return "infinity";
    if (property == "CPUQuotaPerSecUSec") return fmt::format("{:g}%", static_cast<double>(value) / 10000.0);
    return format_bytes(value);
}

}  // namespace heal
