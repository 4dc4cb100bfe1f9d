#pragma once
// Offline detection over a `timestamp,value` CSV, the format of public anomaly
// benchmarks, so users can tune thresholds on their own history.
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "detection/adaptive_detector.hpp"

namespace heal {

// what() names the line number and what is wrong with it.
class ReplayError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ReplayRow {
    std::string timestamp;  // as written in the input
    double value = 0.0;
    bool anomaly = false;  // the detector's failure verdict for this row
};

// Each row is `timestamp,value` (fields trimmed, CRLF accepted; timestamps
// may be any text, e.g. "2014-04-01 14:30:00"). The first non-blank line is
// skipped as a header when its fields name the columns `timestamp` and
// `column` (in any case): then every row has the header's fields and the
// value is taken from `column`, so `healctl metrics --format csv` (timestamp,
// unit, cpu, memory, status) replays with column "cpu" or "memory"; a `unit`
// column must hold one target throughout. Without such a header the column
// must be "value". Blank lines are ignored. Any other malformed row, the
// first included, throws ReplayError, quoting at most 64 bytes of the
// offending text; an invalid config throws std::invalid_argument.
std::vector<ReplayRow> replay_csv(std::istream& in, const AdaptiveDetectorConfig& config,
                                  std::string_view column = "value");

}  // namespace heal
