#pragma once
// Helpers for the recovery tests of the systemd backend: a private scratch
// directory, and transient units started with systemd-run for the tests that
// need a live systemd (skipped elsewhere: support/skip.hpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "systemd/systemd_manager.hpp"
#include "support/temp_dir.hpp"

namespace heal::test {


// Tests that act on the real system manager need it and root.
inline bool live_systemd() { return geteuid() == 0 && systemd::manager_available(systemd::BusScope::system); }

// A long-running transient service, stopped (and its failed state cleared)
// when the test ends.
class TransientUnit {
public:
    // `properties` are systemd-run -p options, e.g. "-p MemoryMax=64M".
    TransientUnit(std::string name, const std::string& properties) : name_(std::move(name)) {
        const auto command = "systemd-run --quiet --unit=" + name_ + " " + properties + " sleep 600";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
    }
    TransientUnit(const TransientUnit&) = delete;
    TransientUnit& operator=(const TransientUnit&) = delete;
    ~TransientUnit() {
        const auto command = "systemctl stop " + name_ + " 2>/dev/null; systemctl reset-failed " + name_ + " 2>/dev/null";
        [[maybe_unused]] const int ignored = std::system(command.c_str());
    }
    const std::string& name() const { return name_; }

private:
    std::string name_;
};

// A unit name no other test run uses.
inline std::string unique_unit(std::string_view stem) {
    static int counter = 0;
    return std::string(stem) + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".service";
}

}  // namespace heal::test
