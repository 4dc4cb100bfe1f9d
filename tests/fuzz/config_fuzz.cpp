// healerd.conf: any bytes either apply or throw ConfigError.
#include "config/config.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    heal::Config config;
    try {
        heal::apply_config_file(config, heal::fuzz::write_input(data, size));
    } catch (const heal::ConfigError&) {
    }
    return 0;
}
