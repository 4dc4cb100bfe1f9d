#pragma once
// cgroup limits written as an operator reads them in unit files and in
// `systemctl show`.
#include <cstdint>
#include <string>

namespace heal {

// systemd's way of writing sizes: 1024-based, "128M", "1.5G".
std::string format_bytes(std::uint64_t bytes);

// The name an operator knows from unit files: CPUQuotaPerSecUSec is "CPUQuota".
std::string limit_name(const std::string& property);

// A value of systemd's `property`: "300M", "50%" (CPUQuotaPerSecUSec), or
// "infinity" for systemd's UINT64_MAX.
std::string format_limit(const std::string& property, std::uint64_t value);

}  // namespace heal
