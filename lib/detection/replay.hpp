#pragma once
// Offline detection over a `timestamp,value` CSV, the format of public anomaly
// benchmarks, so users can tune thresholds on their own history.
#include <istream>
#include <stdexcept>
#include <string>
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
// skipped as a header only when its fields are the column names `timestamp`
// and `value` (in any case); blank lines are ignored. Any other malformed row,
// the first included, throws ReplayError, quoting at most 64 bytes of the
// offending text; an invalid config throws std::invalid_argument.
std::vector<ReplayRow> replay_csv(std::istream& in, const AdaptiveDetectorConfig& config);

}  // namespace heal
