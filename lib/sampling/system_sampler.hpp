#pragma once
// The whole machine: CPU and memory from /proc, and PSI where the kernel has it.
#include <filesystem>
#include <optional>
#include <string>

#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"
#include "sampling/sample.hpp"

namespace heal {

class SystemSampler {
public:
    // `root` is the file-system root ("/" outside tests).
    explicit SystemSampler(const std::filesystem::path& root = "/");

    // CPU % is over the interval since the previous call (0 on the first).
    // Throws SampleError naming the file when /proc/stat or /proc/meminfo is
    // unreadable or malformed; an absent or unreadable PSI file is nullopt.
    SystemSample sample();

private:
    std::optional<Pressure> read_pressure(KernelFile& file);
    // Reads a file the sampler cannot do without into buffer_, or throws.
    void read_required(KernelFile& file);

    KernelFile stat_;
    KernelFile meminfo_;
    KernelFile cpu_pressure_;
    KernelFile memory_pressure_;
    KernelFile io_pressure_;
    std::string buffer_;  // reused every tick
    std::optional<CpuTimes> last_cpu_;
};

}  // namespace heal
