#pragma once
// A corpus' ticks turned, one at a time, into the readings the daemon hands
// its Monitor: the rows become a heal::Sample that healerd's own
// readings_from turns into readings, with systemd's NRestarts and the
// health probes filled in as the corpus allows.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "detection/probe_spec.hpp"
#include "detection/probe_state.hpp"
#include "detection/target_reading.hpp"
#include "trace_corpus.hpp"

namespace heal::bench {

using ProbeOptionsOf = std::function<ProbeOptions(const std::string& unit)>;

class CorpusReadings {
public:
    CorpusReadings(const std::vector<std::string>& probed_units, const ProbeOptionsOf& probe_options_of);

    // The next tick's readings. Throws TraceError for a tick without its machine row.
    std::vector<TargetReading> next(const TraceTick& tick);

private:
    // A unit's health probe from the probe_ok column: each row is one attempt
    // (the corpus' probe ran every second), judged by healerd's own
    // ProbeState with the unit's thresholds, as the daemon's ProbeRunner does.
    struct Probe {
        std::string unit;
        std::string name;
        ProbeOptions options;
        ProbeState state;
    };
    std::vector<Probe> probes_;
    std::map<std::string, std::uint64_t> restarts_;
    std::map<std::string, bool> was_present_;
};

}  // namespace heal::bench
