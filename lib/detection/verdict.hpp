#pragma once
#include <string>

namespace heal {

// A detector's judgement of one value, with enough to explain it in a log line.
struct Verdict {
    std::string metric;      // "cpu", "memory", "unit:nginx.service:memory", ...
    double value = 0.0;
    double threshold = 0.0;  // the value above which it counts as anomalous
    bool anomalous = false;  // this single value is above the threshold
    bool failure = false;    // anomalous long enough (consecutive rule) to act on
    std::string reason;      // a sentence: "cpu 97.0% is above 31.5%, the mean 12.1% + 2.0σ of the last 60 samples"
};

// Judges a stream of values of one metric.
class Detector {
public:
    virtual ~Detector() = default;
    virtual Verdict observe(double value) = 0;
};

}  // namespace heal
