// Service: the Prometheus textfile export ([Export] PrometheusTextfile=),
// rewritten from the tick every ExportIntervalSec.
#include "service.hpp"

#include <algorithm>

#include "service_internal.hpp"
#include "storage/prometheus_text.hpp"

namespace healerd {

namespace {

std::optional<double> stall_ratio(const std::optional<heal::Pressure>& pressure) {
    if (!pressure) return std::nullopt;
    return pressure->avg10 / 100.0;
}

heal::PrometheusSnapshot::Pressure pressure_of(const std::optional<heal::Pressure>& cpu,
                                               const std::optional<heal::Pressure>& memory,
                                               const std::optional<heal::Pressure>& io) {
    return {stall_ratio(cpu), stall_ratio(memory), stall_ratio(io)};
}

}  // namespace

void Service::export_metrics(const heal::Sample& sample, heal::SteadyTime now) {
    if (!config_.prometheus_textfile || now < next_export_) return;
    next_export_ = now + config_.export_interval;
    heal::PrometheusSnapshot snapshot;
    for (const heal::TargetStatus& status : monitor_.targets()) {
        heal::PrometheusSnapshot::Target target;
        target.unit = status.unit;
        target.cpu_ratio = status.cpu / 100.0;
        if (status.memory) target.memory_ratio = *status.memory / 100.0;
        if (status.unit.empty()) {
            target.pressure = pressure_of(sample.system.cpu_pressure, sample.system.memory_pressure,
                                          sample.system.io_pressure);
        } else {
            const auto unit = std::find_if(sample.units.begin(), sample.units.end(),
                                           [&status](const heal::UnitSample& u) { return u.unit == status.unit; });
            if (unit != sample.units.end())
                target.pressure = pressure_of(unit->cpu_pressure, unit->memory_pressure, unit->io_pressure);
        }
        target.in_failure = status.failed;
        target.incident_open = incidents_->active(status.unit) != nullptr;
        for (const heal::ProbeReading& probe : status.probes)
            target.probes.push_back({probe.name, !probe.failing, probe.latency_ms / 1000.0});
        snapshot.targets.push_back(std::move(target));
    }
    // A failure is logged once per outage, and never leaves the tick.
    try {
        snapshot.actions = store_->action_counts();
        snapshot.incidents = store_->closed_incident_counts();
        snapshot.recovery_seconds = store_->recovery_times();
        heal::write_file_atomically(*config_.prometheus_textfile, heal::render_prometheus(snapshot));
        if (export_error_logged_)
            log_info(fmt::format("writing {} works again", config_.prometheus_textfile->string()));
        export_error_logged_ = false;
    } catch (const std::exception& e) {
        if (!export_error_logged_)
            log_error(fmt::format("cannot export metrics, retrying every {}s: {}", config_.export_interval.count(),
                                  e.what()));
        export_error_logged_ = true;
    }
}

}  // namespace healerd
