#include "sampling/system_sampler.hpp"

#include <cstring>


namespace heal {

SystemSampler::SystemSampler(const std::filesystem::path& root)
    : stat_((root / "proc/stat").string(), Contents::whole_at_once),
      meminfo_((root / "proc/meminfo").string(), Contents::whole_at_once),
      cpu_pressure_((root / "proc/pressure/cpu").string(), Contents::whole_at_once),
      memory_pressure_((root / "proc/pressure/memory").string(), Contents::whole_at_once),
      io_pressure_((root / "proc/pressure/io").string(), Contents::whole_at_once) {}

SystemSample SystemSampler::sample() {
    read_required(stat_);
    const auto cpu = parse_proc_stat(buffer_, stat_.path());
    read_required(meminfo_);
    const auto memory = parse_meminfo(buffer_, meminfo_.path());

    SystemSample out;
    out.cpu_percent = last_cpu_ ? cpu_percent_between(*last_cpu_, cpu) : 0.0;
    out.memory_percent = memory_percent(memory);
    out.cpu_pressure = read_pressure(cpu_pressure_);
    out.memory_pressure = read_pressure(memory_pressure_);
    out.io_pressure = read_pressure(io_pressure_);
    last_cpu_ = cpu;
    return out;
}

void SystemSampler::read_required(KernelFile& file) {
    if (const int error = file.read(buffer_); error != 0) {
        throw SampleError(file.path() + ": cannot read: " + std::strerror(error));
    }
}

std::optional<Pressure> SystemSampler::read_pressure(KernelFile& file) {
    // Kernels without PSI, or booted with psi=0, have no file or refuse reads.
    if (file.read(buffer_) != 0) return std::nullopt;
    return parse_pressure(buffer_);
}

}  // namespace heal
