#include "sampling/system_sampler.hpp"

#include <cstring>

#include "sampling/file_reader.hpp"

namespace heal {

SystemSampler::SystemSampler(const std::filesystem::path& root)
    : stat_path_((root / "proc/stat").string()),
      meminfo_path_((root / "proc/meminfo").string()),
      cpu_pressure_path_((root / "proc/pressure/cpu").string()),
      memory_pressure_path_((root / "proc/pressure/memory").string()),
      io_pressure_path_((root / "proc/pressure/io").string()) {}

SystemSample SystemSampler::sample() {
    read_required(stat_path_);
    const auto cpu = parse_proc_stat(buffer_, stat_path_);
    read_required(meminfo_path_);
    const auto memory = parse_meminfo(buffer_, meminfo_path_);

    SystemSample out;
    out.cpu_percent = last_cpu_ ? cpu_percent_between(*last_cpu_, cpu) : 0.0;
    out.memory_percent = memory_percent(memory);
    out.cpu_pressure = read_pressure(cpu_pressure_path_);
    out.memory_pressure = read_pressure(memory_pressure_path_);
    out.io_pressure = read_pressure(io_pressure_path_);
    last_cpu_ = cpu;
    return out;
}

void SystemSampler::read_required(const std::string& path) {
    if (const int error = read_file(path, buffer_); error != 0) {
        throw SampleError(path + ": cannot read: " + std::strerror(error));
    }
}

std::optional<Pressure> SystemSampler::read_pressure(const std::string& path) {
    // Kernels without PSI, or booted with psi=0, have no file or refuse reads.
    if (read_file(path, buffer_) != 0) return std::nullopt;
    return parse_pressure(buffer_);
}

}  // namespace heal
