// Service: construction, the sampling tick (sample -> detect -> store ->
// incidents -> automatic recovery), the live state, configuration, shutdown.
#include "service.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <random>

#include <time.h>
#include <unistd.h>

#include <fmt/ranges.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "service_internal.hpp"
#include "core/idle_memory.hpp"
#include "rl/model_file.hpp"
#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"

namespace healerd {

namespace {
constexpr auto kRetentionEvery = std::chrono::minutes(10);

// The consumers of the simulation's random numbers, each with its own stream
// of one seed, so that one's draws do not shift another's.
enum SimulationStream : std::uint32_t { kOverlayStream, kSamplerStream, kDiceStream };

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

std::uint64_t usec_of(std::chrono::milliseconds duration) { return static_cast<std::uint64_t>(duration.count()) * 1000; }

// MemTotal, against which units without a MemoryMax are judged; 0 when
// unreadable (those units' memory is then not judged).
heal::DetectionOf detection_settings(const heal::Config& config) {
    return [&config](const std::string& unit) { return config.detection_of(unit); };
}

std::uint64_t read_memory_total() {
    std::string text;
    if (heal::read_file("/proc/meminfo", text) != 0) return 0;
    try {
        return heal::parse_meminfo(text, "/proc/meminfo").total_kb * 1024;
    } catch (const heal::SampleError& e) {
        log_warning(e.what());
        return 0;
    }
}

// Healthy for validation: not in failure, and nothing anomalous right now.
bool looks_healthy(const heal::TargetStatus& status) {
    return !status.failed &&
           std::none_of(status.verdicts.begin(), status.verdicts.end(), [](const heal::Verdict& v) { return v.anomalous; });
}

std::uint64_t usec_since_epoch(heal::TimePoint time) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

// This boot's id, which runtime unit properties live and die with.
std::string boot_id() {
    sd_id128_t id;
    if (const int r = sd_id128_get_boot(&id); r < 0)
        throw std::runtime_error(fmt::format("cannot read this boot's id: {}", std::strerror(-r)));
    char text[SD_ID128_STRING_MAX];
    return sd_id128_to_string(id, text);
}
}  // namespace

Service::Service(sd_event* event, ServiceOptions options, heal::Config config)
    : event_(event),
      options_(std::move(options)),
      config_(std::move(config)),
      queue_(event),
      random_simulation_seed_(random_seed()),
      overlay_(std::make_shared<heal::FaultOverlay>(simulation_seed(config_, kOverlayStream))),
      read_budget_(kReadBudgetRows, kReadRefillRows),
      retention_schedule_(kRetentionEvery),
      monitor_(config_.units, detection_settings(config_), heal::MachineShape{}),
      engine_(health_, clock_),
      breaker_(config_.circuit_breaker_burst, config_.circuit_breaker_interval),
      policy_(std::make_shared<heal::LadderPolicy>()),
      ladder_(policy_) {
    config_.backend.user_manager = options_.user_bus;
    refresh_access_rule();
    store_ = std::make_unique<heal::Store>(heal::database_path(config_, options_.state_dir));
    pauses_ = std::make_unique<heal::PauseBook>(*store_);
    raises_ = std::make_unique<heal::RaiseBook>(*store_, boot_id());
    if (const std::size_t dropped = raises_->dropped_at_load())
        log_info(fmt::format("{} limit(s) raised by scale_up before the last reboot ended with it; forgotten", dropped));
    incidents_ = std::make_unique<heal::IncidentBook>(*store_, breaker_);
    probes_ = std::make_unique<heal::ProbeRunner>(
        event_, [this](const heal::ProbeSpec& spec, const heal::ProbeState& state) { report_probe_change(spec, state); });
    configure_probes();
    metric_writer_ = std::make_unique<heal::MetricWriter>(*store_, config_.metric_write_interval);
    model_path_ = options_.state_dir / "policy.model";
    backend_ = make_backend(config_);
    if (options_.simulated_metrics) {
        simulated_sampler_ =
            std::make_unique<heal::SimulatedSampler>(config_.units, simulation_seed(config_, kSamplerStream));
    } else {
        memory_total_bytes_ = read_memory_total();
        proc_sampler_ = std::make_unique<heal::ProcSampler>();
        watch_units(config_.units);
    }
    monitor_ = heal::Monitor(config_.units, detection_settings(config_), machine_shape());
    if (options_.simulated)
        log_info(fmt::format("simulation seed {}{}", config_.simulation.seed.value_or(random_simulation_seed_),
                             config_.simulation.seed ? "" : " (random; [Simulation] Seed= repeats this run)"));
    close_interrupted_attempts();
    try {
        if (const std::int64_t open = store_->interrupt_open_incidents(std::chrono::system_clock::now()))
            log_warning(fmt::format("{} incident(s) were open when healerd last stopped; stored as interrupted", open));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot close interrupted incidents: {}", e.what()));
    }
    if (const std::size_t orphans = heal::remove_orphan_temporaries(model_path_))
        log_info(fmt::format("removed {} temporary model file(s) left by an interrupted save", orphans));
    load_model(true);
    publish_state();
}

Service::~Service() {
    events_ = nullptr;  // the bus object may be gone already
    shutdown();
}

std::shared_ptr<heal::Backend> Service::make_backend(const heal::Config& config) const {
    if (options_.simulated)
        return heal::make_simulated_backend(overlay_, simulation_seed(config, kDiceStream), 1.0,
                                            config.simulation.heal_chances);
    return heal::make_systemd_backend(config.backend);
}

std::uint64_t Service::simulation_seed(const heal::Config& config, std::uint32_t stream) const {
    // A real backend ignores [Simulation]: its synthetic faults' jitter stays random.
    const std::uint64_t seed =
        options_.simulated ? config.simulation.seed.value_or(random_simulation_seed_) : random_simulation_seed_;
    std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), stream};
    std::array<std::uint32_t, 2> words{};
    sequence.generate(words.begin(), words.end());
    return (std::uint64_t{words[0]} << 32) | words[1];
}

void Service::start() {
    next_tick_usec_ = monotonic_usec();
    const int r = sd_event_add_time(event_, &timer_, CLOCK_MONOTONIC, next_tick_usec_, 1000, &Service::on_tick, this);
    if (r < 0) throw std::system_error(-r, std::generic_category(), "cannot arm the sampling timer");
}

int Service::on_tick(sd_event_source* source, std::uint64_t, void* self) {
    auto* service = static_cast<Service*>(self);
    service->tick();
    // The next tick keeps the cadence; after a stall, it skips missed ticks
    // rather than sampling in a burst.
    const std::uint64_t interval = usec_of(service->config_.sample_interval);
    const std::uint64_t now = monotonic_usec();
    service->next_tick_usec_ += interval;
    if (service->next_tick_usec_ <= now) service->next_tick_usec_ = now + interval;
    sd_event_source_set_time(source, service->next_tick_usec_);
    sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    return 0;
}

heal::MachineShape Service::machine_shape() const {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return heal::MachineShape{static_cast<unsigned>(std::max(1L, cpus)),
                              simulated_sampler_ ? heal::SimulatedSampler::kMachineMemoryBytes : memory_total_bytes_};
}

heal::Sample Service::take_sample() {
    if (simulated_sampler_) return simulated_sampler_->sample();
    return proc_sampler_->sample();
}

void Service::tick() {
    const auto observed = std::chrono::steady_clock::now();
    heal::Sample sample;
    try {
        sample = take_sample();
        sample_error_logged_ = false;
    } catch (const heal::SampleError& e) {
        if (!sample_error_logged_) log_error(fmt::format("sampling failed, skipping ticks until it works: {}", e.what()));
        sample_error_logged_ = true;
        return;
    }
    apply_memory_limits(sample);
    std::vector<heal::TargetReading> readings = heal::readings_from(sample, memory_total_bytes_);
    ask_systemd(sample, readings);
    attach_probes(readings);
    overlay_->apply(readings);
    note_unit_limits(readings);
    const std::vector<heal::FailureEvent> failures = monitor_.observe(readings, observed);
    for (const heal::TargetStatus& status : monitor_.targets())
        if (status.observed) health_.publish(status.unit, heal::HealthReport{observed, looks_healthy(status)});

    store_tick(readings);
    report_failures(failures);
    track_incidents(observed);
    restore_raised_limits(readings);
    expire_pauses();
    report_breaker_changes();
    publish_state();
    if (config_.auto_recover) auto_recover(observed);
    apply_retention();
    export_metrics(sample, observed);
}

// Only systemd knows whether a unit with no processes failed or was
// stopped, and how often its Restart= restarted it. It is asked about a unit
// that is not running, whose cgroup is new (a start since the last tick) or
// whose settings changed (systemctl set-property), not about every unit at
// every tick.
void Service::ask_systemd(const heal::Sample& sample, std::vector<heal::TargetReading>& readings) {
    for (heal::TargetReading& reading : readings) {
        if (reading.unit.empty()) continue;
        const auto sampled = std::find_if(sample.units.begin(), sample.units.end(),
                                          [&](const heal::UnitSample& u) { return u.unit == reading.unit; });
        const std::uint64_t cgroup_id = sampled == sample.units.end() ? 0 : sampled->cgroup_id;
        UnitAnswer& known = unit_answers_[reading.unit];
        // systemctl set-property changes limits without a signal: its drop-in says so.
        const std::uint64_t settings = backend_->probe->settings_stamp(reading.unit);
        if (!reading.present || !known.asked || known.cgroup_id != cgroup_id || known.settings != settings) {
            try {
                const heal::UnitState state = backend_->probe->probe(reading.unit);
                known = UnitAnswer{true, cgroup_id, state.automatic_restarts, settings};
                learn_memory_limits(reading.unit, state);  // a new start may run under new limits
                if (!reading.present) reading.stopped = state.stopped;
                unit_probe_error_logged_ = false;
            } catch (const std::exception& e) {
                // Then it is judged as not running, as if it had failed; logged once per outage.
                if (!unit_probe_error_logged_)
                    log_warning(fmt::format("cannot ask systemd about {}: {}", reading.unit, e.what()));
                unit_probe_error_logged_ = true;
            }
        }
        reading.automatic_restarts = known.automatic_restarts;
    }
}

// ---- health probes ------------------------------------------------------------

void Service::configure_probes() {
    std::vector<heal::ProbeSpec> specs;
    for (const std::string& unit : config_.units) {
        // exec probes run as healerd's own user: the operator wrote the command in a root-owned file.
        std::vector<heal::ProbeSpec> of_unit = config_.settings_of(unit).probe_specs(unit, "");
        specs.insert(specs.end(), of_unit.begin(), of_unit.end());
    }
    try {
        probes_->reconfigure(std::move(specs));
    } catch (const std::exception& e) {  // invalid (the configuration reader checks first), or no timer
        log_error(fmt::format("health probes unchanged: {}", e.what()));
    }
}

void Service::attach_probes(std::vector<heal::TargetReading>& readings) const {
    for (const heal::ProbeRunner::Probe& probe : probes_->probes()) {
        const auto reading = std::find_if(readings.begin(), readings.end(),
                                          [&](const heal::TargetReading& r) { return r.unit == probe.spec.unit; });
        if (reading == readings.end()) continue;
        const std::string name = heal::describe(probe.spec);
        const auto& last = probe.state.last();
        reading->probes.push_back(heal::ProbeReading{
            name, probe.state.health() == heal::ProbeHealth::failing,
            last ? static_cast<double>(last->latency.count()) / 1000.0 : 0.0,
            static_cast<double>(probe.spec.options.timeout.count()), probe.state.sentence(name)});
    }
}

void Service::report_probe_change(const heal::ProbeSpec& spec, const heal::ProbeState& state) const noexcept {
    try {
        log(state.health() == heal::ProbeHealth::failing ? LOG_WARNING : LOG_NOTICE, {},
            fmt::format("{}: now {}", state.sentence(heal::describe(spec)), heal::to_string(state.health())),
            unit_field(spec.unit));
    } catch (const std::exception&) {  // sd-event's C dispatch must not see an exception
    }
}

void Service::store_tick(const std::vector<heal::TargetReading>& readings) {
    const std::vector<heal::MetricRecord> records =
        heal::metric_records(readings, monitor_, std::chrono::system_clock::now());
    write_metrics([&] { metric_writer_->add(records, std::chrono::steady_clock::now()); });
}

void Service::flush_metrics() {
    write_metrics([&] { metric_writer_->flush(); });
}

void Service::write_metrics(const std::function<void()>& write) {
    try {
        write();
        bad_sample_logged_ = false;
    } catch (const heal::StoreError& e) {
        // Logged once per outage; the writer says when a commit worked again.
        if (!store_error_logged_) log_error(fmt::format("cannot store samples: {}", e.what()));
        store_error_logged_ = true;
    } catch (const std::invalid_argument& e) {  // a non-finite reading
        if (!bad_sample_logged_) log_error(fmt::format("cannot store samples: {}", e.what()));
        bad_sample_logged_ = true;
    }
    if (const auto lost = metric_writer_->take_recovery()) {
        log_info(fmt::format("storing samples works again; {} sample(s) could not be stored", *lost));
        store_error_logged_ = false;
    }
}

void Service::report_failures(const std::vector<heal::FailureEvent>& events) {
    for (const heal::FailureEvent& event : events) {
        std::vector<LogField> fields = unit_field(event.unit);
        fields.push_back({"METRIC", event.metric});
        fields.push_back({"SIGNAL", event.signal});
        fields.push_back({"VALUE", fmt::format("{:.1f}", event.value)});
        fields.push_back({"THRESHOLD", fmt::format("{:.1f}", event.threshold)});
        fields.push_back({"HELD_SEC", fmt::format("{:.1f}", event.held_sec)});
        log(LOG_WARNING, message_id::failure_detected,
            fmt::format("failure detected on {} by {}: {}", target_name(event.unit), event.signal, event.reason),
            fields);
        if (events_) events_->failure_detected(event);
    }
}

// ---- incidents ----------------------------------------------------------------

void Service::track_incidents(heal::SteadyTime now) {
    incidents_->track(
        monitor_.targets(), [&](const std::string& target) { return recoveries_.contains(target); },
        [&](const std::string& target) { return config_.incident_options(target); }, now);
    report_incident_news();
}

void Service::report_incident_news() {
    bool closed = false;
    for (const heal::IncidentNews& news : incidents_->take_news()) {
        closed = closed || news.kind == heal::IncidentNews::Kind::resolved ||
                 news.kind == heal::IncidentNews::Kind::given_up;
        if (news.kind == heal::IncidentNews::Kind::store_failed) {
            log_error(news.message);
            continue;
        }
        std::vector<LogField> fields = unit_field(news.unit);
        fields.push_back({"FAILURE_KIND", std::string(heal::to_string(news.failure_kind))});
        fields.push_back({"ATTEMPTS", std::to_string(news.attempts)});
        fields.push_back({"RELAPSES", std::to_string(news.relapses)});
        if (news.incident_id != 0) fields.push_back({"INCIDENT_ID", std::to_string(news.incident_id)});
        if (news.recovery_time) fields.push_back({"RECOVERY_TIME", format_seconds(*news.recovery_time)});
        switch (news.kind) {
        case heal::IncidentNews::Kind::opened: log(LOG_INFO, {}, news.message, fields); break;
        case heal::IncidentNews::Kind::relapsed: log(LOG_WARNING, {}, news.message, fields); break;
        case heal::IncidentNews::Kind::resolved:
            log(LOG_INFO, message_id::incident_resolved, news.message, fields);
            if (restart_healed_.erase(news.unit) && raises_->find(news.unit))
                start_restore(news.unit, "the incident ended with a restart, which cleared the cause");
            break;
        case heal::IncidentNews::Kind::given_up:
            log(LOG_WARNING, message_id::incident_given_up, news.message, fields);
            restart_healed_.erase(news.unit);
            send_alert(news);
            break;
        case heal::IncidentNews::Kind::store_failed: break;
        }
    }
    if (!closed) return;
    maybe_retrain();
    // A recovery's paths (executors, validation, the manager's answers) are not the loop's.
    heal::release_idle_memory();
}

void Service::send_alert(const heal::IncidentNews& news) {
    // A dry run gives nothing up for real: its incidents are what would have been done.
    if (config_.on_give_up.empty() || stopping_ || dry_running()) return;
    const heal::Alert alert = heal::give_up_alert(
        config_.on_give_up, {news.incident_id, news.unit, news.failure_kind, news.attempts, news.relapses, news.message});
    std::vector<LogField> fields = unit_field(news.unit);
    fields.push_back({"ALERT_UNIT", alert.unit});
    fields.push_back({"INCIDENT_ID", alert.instance});
    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([alert, fields = std::move(fields), backend = std::move(backend)]() mutable {
        const heal::ExecutionResult result = backend->alerter->send(alert);
        return std::function<void()>([fields = std::move(fields), result]() mutable {
            fields.push_back({"RESULT", result.ok ? "sent" : "failed"});
            log(result.ok ? LOG_NOTICE : LOG_ERR, message_id::alert_sent,
                fmt::format("{} (OnGiveUp=): {}", result.ok ? "alert sent" : "alert failed", result.detail), fields);
        });
    });
}

void Service::give_up(const std::string& target, const std::string& reason) {
    // A dry run never acted: its incident says what would have been done, it did not fail.
    incidents_->give_up(target, reason, dry_running());
    report_incident_news();
}

void Service::auto_recover(heal::SteadyTime now) {
    for (const std::string& target : incidents_->due(now)) {
        const heal::Incident& incident = *incidents_->find(target);
        if (recoveries_.contains(target)) continue;
        if (pauses_->paused(target, std::chrono::system_clock::now())) continue;
        // Every acting executor needs a unit: on a real host the machine is observed, not acted on.
        if (target.empty() && !backend_->simulated()) continue;
        if (const auto exhausted = incident.exhausted()) {
            give_up(target, *exhausted);
            continue;
        }
        if (breaker_.open_until(target, now)) {
            give_up(target, fmt::format("{} unsuccessful attempts within {}s (circuit breaker open)",
                                         config_.circuit_breaker_burst, config_.circuit_breaker_interval.count()));
            continue;
        }
        try {
            start_recovery(target, std::nullopt, nullptr);
        } catch (const RequestError& e) {
            log_error(fmt::format("cannot recover {}: {}", target_name(target), e.what()));
        }
    }
}

void Service::apply_retention() {
    const auto now = std::chrono::steady_clock::now();
    if (!retention_schedule_.due(config_.retention, now, store_->rows_added() + metric_writer_->pending())) return;
    flush_metrics();
    retention_schedule_.ran(now, store_->rows_added());
    try {
        const std::int64_t removed = store_->apply_retention(config_.retention, std::chrono::system_clock::now());
        if (removed > 0) log(LOG_DEBUG, {}, fmt::format("retention removed {} old rows", removed));
        store_->checkpoint();
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot apply retention: {}", e.what()));
    }
}

std::string Service::status_line() const {
    if (!monitor_.target("")->observed) return fmt::format("starting; backend {}", state_.backend);
    std::string health = "healthy";
    if (!state_.healthy) {
        std::vector<std::string> failed;
        for (const heal::TargetStatus& status : monitor_.targets())
            if (status.failed) failed.push_back(status.unit.empty() ? "machine" : status.unit);
        health = fmt::format("failed ({})", fmt::join(failed, ", "));
    }
    // No live CPU or memory figures: STATUS= changes only with the state, so
    // PID 1 is not woken by a notification every tick.
    return fmt::format("{}; {} unit(s) watched; policy {}{}; backend {}", health, state_.units.size(),
                       state_.policy, state_.training ? ", training" : "", state_.backend);
}

void Service::report_breaker_changes() {
    for (const auto& [unit, opened] : breaker_.changes(std::chrono::steady_clock::now())) {
        if (opened)
            log(LOG_WARNING, message_id::breaker_opened,
                fmt::format("circuit breaker for {} opened: {} unsuccessful attempts within {}s; no recovery until "
                            "it closes",
                            target_name(unit), config_.circuit_breaker_burst, config_.circuit_breaker_interval.count()),
                unit_field(unit));
        else
            log(LOG_NOTICE, message_id::breaker_closed,
                fmt::format("circuit breaker for {} closed: healerd may recover it again", target_name(unit)),
                unit_field(unit));
    }
}

// Once per stop: the operator's intent, which healerd follows.
void Service::report_stopped_units(const LiveState& next) const {
    for (const LiveState::UnitHealth& unit : next.unit_states) {
        if (unit.state != "stopped") continue;
        const auto before = std::find_if(state_.unit_states.begin(), state_.unit_states.end(),
                                         [&](const LiveState::UnitHealth& u) { return u.unit == unit.unit; });
        if (before != state_.unit_states.end() && before->state == "stopped") continue;
        log(LOG_NOTICE, message_id::unit_stopped,
            fmt::format("{} was stopped on purpose (systemctl stop, or a clean exit): no action until it runs again",
                        unit.unit),
            unit_field(unit.unit));
    }
}

void Service::publish_state() {
    LiveState next;
    next.healthy = monitor_.healthy();
    if (const heal::TargetStatus* machine = monitor_.target("")) {
        next.cpu = machine->cpu;
        next.memory = machine->memory.value_or(0.0);
    }
    next.failure_count = monitor_.failure_count();
    next.policy = std::string(policy_->name());
    next.model_loaded = model_loaded_;
    next.model_provenance = model_loaded_ ? model_provenance_ : "";
    next.training = training_;
    next.backend = backend_->name;
    next.auto_recover = config_.auto_recover;
    next.units = config_.units;
    for (const heal::TargetStatus& status : monitor_.targets())
        if (!status.unit.empty()) next.unit_states.push_back({status.unit, std::string(status.state())});
    for (const auto& [unit, pause] : pauses_->all())
        next.paused.push_back({unit, pause.until ? usec_since_epoch(*pause.until) : 0, pause.paused_by});
    next.unit_limits = unit_limits_;
    for (const auto& [unit, raise] : raises_->all()) {
        std::uint64_t expires = 0;
        if (config_.scale_up_expire.count() == 0) {
            expires = std::numeric_limits<std::uint64_t>::max();
        } else if (!troubled(unit)) {
            expires = usec_since_epoch(*raises_->expires_at(unit, config_.scale_up_expire));
        }
        for (const heal::LimitChange& change : raise.changes)
            next.raised_limits.push_back(
                {unit, change.property, change.from, change.to, usec_since_epoch(raise.raised_at), expires});
    }

    std::vector<const char*> changed;
    const auto compare = [&](bool differs, const char* name) {
        if (differs) changed.push_back(name);
    };
    compare(next.healthy != state_.healthy, "Health");
    compare(next.cpu != state_.cpu, "Cpu");
    compare(next.memory != state_.memory, "Memory");
    compare(next.failure_count != state_.failure_count, "FailureCount");
    compare(next.policy != state_.policy, "Policy");
    compare(next.model_loaded != state_.model_loaded, "ModelLoaded");
    compare(next.model_provenance != state_.model_provenance, "ModelProvenance");
    compare(next.training != state_.training, "TrainingState");
    compare(next.backend != state_.backend, "Backend");
    compare(next.auto_recover != state_.auto_recover, "AutoRecover");
    compare(next.units != state_.units, "WatchedUnits");
    compare(next.paused != state_.paused, "Paused");
    compare(next.raised_limits != state_.raised_limits, "RaisedLimits");
    compare(next.unit_states != state_.unit_states, "UnitStates");
    compare(next.unit_limits != state_.unit_limits, "UnitLimits");
    report_stopped_units(next);
    state_ = std::move(next);
    if (!changed.empty() && events_) events_->properties_changed(changed);

    const std::string status = status_line();
    if (status != last_status_) {
        sd_notifyf(0, "STATUS=%s", status.c_str());
        last_status_ = status;
    }
}

const heal::TargetStatus* Service::target_status(const std::string& unit) const { return monitor_.target(unit); }

void Service::note_unit_limits(const std::vector<heal::TargetReading>& readings) {
    constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
    unit_limits_.clear();
    for (const heal::TargetReading& reading : readings) {
        if (reading.unit.empty()) continue;
        unit_limits_.push_back({reading.unit, reading.memory_max_bytes.value_or(kNone),
                                reading.memory_high_bytes.value_or(kNone),
                                reading.cpu_limit_percent ? static_cast<std::uint64_t>(*reading.cpu_limit_percent * 10000.0)
                                                          : kNone});
    }
}

// ---- configuration ----------------------------------------------------------

void Service::learn_control_group(const std::string& unit, const std::optional<std::string>& control_group) {
    if (!proc_sampler_ || unit.empty() || !control_group || control_group->empty()) return;
    const auto known = control_groups_.find(unit);
    if (known != control_groups_.end() && known->second == *control_group) return;
    control_groups_[unit] = *control_group;
    watch_units(config_.units);
}

void Service::learn_memory_limits(const std::string& unit, const heal::UnitState& state) {
    std::lock_guard lock(memory_limits_mutex_);
    memory_limits_[unit] = MemoryLimits{state.memory_max, state.memory_high};
}

// systemd's MemoryMax and MemoryHigh where the cgroup files show none (v1
// controllers not delegated, or no v2 memory.high on a hybrid host).
void Service::apply_memory_limits(heal::Sample& sample) const {
    std::lock_guard lock(memory_limits_mutex_);
    for (heal::UnitSample& unit : sample.units) {
        const auto known = memory_limits_.find(unit.unit);
        if (known == memory_limits_.end()) continue;
        if (!unit.memory_high_bytes) unit.memory_high_bytes = known->second.high;
        if (!unit.memory_max_bytes) unit.memory_max_bytes = known->second.max;
    }
}

void Service::watch_units(const std::vector<std::string>& units) {
    if (simulated_sampler_) {
        simulated_sampler_->watch(units);
        return;
    }
    std::vector<heal::UnitSpec> specs;
    for (const std::string& unit : units) {
        if (!control_groups_.contains(unit)) {
            // Asked once per unit: a user manager's units live outside
            // /system.slice, and only systemd knows where.
            try {
                const heal::UnitState state = backend_->probe->probe(unit);
                if (state.control_group && !state.control_group->empty()) control_groups_[unit] = *state.control_group;
                learn_memory_limits(unit, state);
            } catch (const std::exception& e) {
                log_warning(fmt::format("cannot ask systemd where {} runs: {}", unit, e.what()));
            }
        }
        const auto group = control_groups_.find(unit);
        specs.push_back(heal::UnitSpec{unit, group == control_groups_.end() ? std::nullopt
                                                                            : std::optional<std::string>(group->second)});
    }
    proc_sampler_->watch(std::move(specs));
}

bool Service::reload() {
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(monotonic_usec()));
    refresh_access_rule();
    bool applied = false;
    try {
        apply_config(heal::load_config(options_.config_path, options_.config_required));
        applied = true;
        // A model shipped to this host (docs/fleet.md) is taken up like one trained here.
        if (!training_) load_model(false);
        log_info(fmt::format("configuration reloaded from {}", options_.config_path.string()));
    } catch (const heal::ConfigError& e) {
        log(LOG_ERR, message_id::config_error,
            fmt::format("configuration not reloaded, keeping the running one: {}", e.what()),
            {{"CONFIG_FILE", e.file().string()}, {"CONFIG_LINE", std::to_string(e.line())}});
    } catch (const std::exception& e) {
        log(LOG_ERR, message_id::config_error,
            fmt::format("configuration not reloaded, keeping the running one: {}", e.what()));
    }
    sd_notifyf(0, "READY=1\nSTATUS=%s", status_line().c_str());
    return applied;
}

void Service::apply_config(heal::Config config) {
    config.backend.user_manager = options_.user_bus;
    const std::filesystem::path database = heal::database_path(config_, options_.state_dir);
    if (heal::database_path(config, options_.state_dir) != database) {
        log_warning(fmt::format("[Storage] Path= changes take effect when healerd restarts; still using {}",
                                database.string()));
        config.database = config_.database;
    }
    // The only step that can fail comes first, so a failure changes nothing.
    // Running recoveries keep the backend they started with.
    const bool backend_changed =
        options_.simulated ? config.simulation != config_.simulation : config.backend != config_.backend;
    if (backend_changed) backend_ = make_backend(config);

    const bool units_changed = config.units != config_.units;
    monitor_.reconfigure(config.units, detection_settings(config));
    std::erase_if(unit_answers_, [&](const auto& answer) {  // a unit watched again is asked anew
        return std::find(config.units.begin(), config.units.end(), answer.first) == config.units.end();
    });
    breaker_.reconfigure(config.circuit_breaker_burst, config.circuit_breaker_interval);
    metric_writer_->set_interval(config.metric_write_interval);
    config_ = std::move(config);
    if (units_changed) watch_units(config_.units);
    configure_probes();
    retention_schedule_.reset();  // new limits apply at the next tick
    publish_state();
}

// ---- shutdown -----------------------------------------------------------------

void Service::shutdown() {
    if (stopping_.exchange(true)) return;
    cancel_training_ = true;
    if (timer_) {
        sd_event_source_disable_unref(timer_);
        timer_ = nullptr;
    }
    // Worker threads only post back; joining them and then draining the queue
    // finishes their work (storing recoveries, replying to callers) here.
    if (trainer_.joinable()) trainer_.join();
    for (auto& [target, recovery] : recoveries_)
        if (recovery.thread.joinable()) recovery.thread.join();
    for (auto& [id, thread] : workers_)
        if (thread.joinable()) thread.join();
    queue_.drain();
    incidents_->interrupt_all("healerd stopped");
    report_incident_news();
    flush_metrics();
}

}  // namespace healerd
