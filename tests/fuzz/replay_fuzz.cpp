// replay CSV: any bytes either give rows or throw ReplayError, whose message
// quotes at most 64 bytes of the input (plus line number and length).
#include <cstdlib>
#include <sstream>
#include <string>

#include "detection/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    try {
        heal::AdaptiveDetectorConfig config;
        config.floor = 0.0;
        for (const heal::ReplayRow& row : heal::replay_csv(in, config))
            if (row.timestamp.empty()) std::abort();
    } catch (const heal::ReplayError& e) {
        if (std::string(e.what()).size() > 256) std::abort();
    }
    return 0;
}
