#include "storage/prometheus_text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

namespace heal {

namespace {

// Go's ParseFloat reads fmt's shortest form; infinities and NaN have their own words.
std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", value);
}

// Callers list labels by name, as node_exporter serves them, so that the
// file and a scrape show the same lines.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    std::string text = "{";
    for (const auto& [name, value] : pairs) {
        if (text.size() > 1) text += ',';
        text += fmt::format("{}=\"{}\"", name, escape_label_value(value));
    }
    return text + "}";
}

// One metric family: its samples are gathered first, so that an empty one
// can be left out and every family's lines stay together.
class Family {
public:
    Family(std::string name, std::string_view type, std::string_view help)
        : name_(std::move(name)), header_(fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name_, help, type)) {}

    void add(std::string_view suffix, const std::string& label_text, std::string_view value) {
        lines_ += fmt::format("{}{}{} {}\n", name_, suffix, label_text, value);
    }
    void add(const std::string& label_text, double value) { add("", label_text, number(value)); }
    void write_to(std::string& out, bool even_empty = false) const {
        if (lines_.empty() && !even_empty) return;
        out += header_;
        out += lines_;
    }

private:
    std::string name_;
    std::string header_;
    std::string lines_;
};

double flag(bool value) { return value ? 1.0 : 0.0; }

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            escaped += "\\\\";
        else if (c == '"')
            escaped += "\\\"";
        else if (c == '\n')
            escaped += "\\n";
        else
            escaped += c;
    }
    return escaped;
}

std::string render_prometheus(const PrometheusSnapshot& snapshot) {
    Family cpu("healerd_cpu_usage_ratio", "gauge",
               "CPU in use: the machine's of all CPUs, a unit's of one CPU (unit=\"\" is the machine).");
    Family memory("healerd_memory_usage_ratio", "gauge",
                  "Memory in use: of the unit's MemoryMax, else of the machine's RAM.");
    Family pressure("healerd_pressure_stall_ratio", "gauge",
                    "PSI some avg10: share of the last 10 s some task stalled on the resource.");
    Family failure("healerd_in_failure", "gauge", "1 while healerd judges the target failed.");
    Family incident("healerd_incident_open", "gauge", "1 while the target has an open incident.");
    Family probe_success("healerd_probe_success", "gauge", "1 unless the health probe is failing.");
    Family probe_latency("healerd_probe_latency_seconds", "gauge", "Duration of the probe's latest attempt.");
    for (const PrometheusSnapshot::Target& target : snapshot.targets) {
        const std::string unit = labels({{"unit", target.unit}});
        cpu.add(unit, target.cpu_ratio);
        if (target.memory_ratio) memory.add(unit, *target.memory_ratio);
        for (const auto& [resource, value] : {std::pair{"cpu", target.pressure.cpu},
                                              std::pair{"memory", target.pressure.memory},
                                              std::pair{"io", target.pressure.io}})
            if (value) pressure.add(labels({{"resource", resource}, {"unit", target.unit}}), *value);
        failure.add(unit, flag(target.in_failure));
        incident.add(unit, flag(target.incident_open));
        for (const PrometheusSnapshot::Probe& probe : target.probes) {
            const std::string probe_labels = labels({{"probe", probe.name}, {"unit", target.unit}});
            probe_success.add(probe_labels, flag(probe.success));
            probe_latency.add(probe_labels, probe.latency_seconds);
        }
    }

    Family incidents("healerd_incidents_total", "counter",
                     "Closed incidents in the database, by unit, failure kind and outcome.");
    for (const IncidentCount& count : snapshot.incidents)
        incidents.add(labels({{"kind", count.failure_kind}, {"outcome", count.outcome}, {"unit", count.unit}}),
                      static_cast<double>(count.count));
    Family actions("healerd_actions_total", "counter",
                   "Finished recovery attempts in the database, by unit, action and result.");
    for (const ActionCount& count : snapshot.actions)
        actions.add(labels({{"action", count.action}, {"result", count.result}, {"unit", count.unit}}),
                    static_cast<double>(count.count));

    Family recovery("healerd_recovery_seconds", "histogram",
                    "Time from a recovery action's start until its target was healthy again.");
    for (const double bound : kRecoveryBuckets) {
        const auto within = std::count_if(snapshot.recovery_seconds.begin(), snapshot.recovery_seconds.end(),
                                          [bound](double seconds) { return seconds <= bound; });
        recovery.add("_bucket", labels({{"le", number(bound)}}), std::to_string(within));
    }
    const std::string total = std::to_string(snapshot.recovery_seconds.size());
    recovery.add("_bucket", labels({{"le", "+Inf"}}), total);
    double sum = 0.0;
    for (const double seconds : snapshot.recovery_seconds) sum += seconds;
    recovery.add("_sum", "", number(sum));
    recovery.add("_count", "", total);

    std::string out;
    for (const Family* family : {&cpu, &memory, &pressure, &failure, &incident, &probe_success, &probe_latency,
                                 &incidents, &actions})
        family->write_to(out);
    recovery.write_to(out, true);
    return out;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    const std::filesystem::path temporary = path.string() + ".tmp";
    // errno is read first: building the message may allocate, and close and unlink may set it.
    const auto fail = [&temporary](int fd, std::string_view what) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        ::unlink(temporary.c_str());
        throw std::system_error(error, std::generic_category(), fmt::format("{}: {}", temporary.string(), what));
    };
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail(fd, "cannot create");
    for (std::size_t written = 0; written < text.size();) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(fd, "cannot write");
        written += static_cast<std::size_t>(n);
    }
    // Without fsync a crash could leave the renamed file empty.
    if (::fsync(fd) != 0) fail(fd, "cannot sync");
    if (::close(fd) != 0) fail(-1, "cannot close");
    if (::rename(temporary.c_str(), path.c_str()) != 0) fail(-1, "cannot rename over the file it replaces");
}

}  // namespace heal
