#include "service.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <random>

#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <systemd/sd-daemon.h>

#include "config/fault_injection.hpp"
#include "core/target.hpp"
#include "log.hpp"
#include "rl/model_file.hpp"
#include "sampling/file_reader.hpp"
#include "sampling/proc_parsers.hpp"

namespace healerd {

using heal::Action;
using heal::target_name;
using RequestCode = RequestError::Code;

namespace {

constexpr std::uint32_t kMaxLimit = 10000;     // GetMetrics/GetActions rows, Train episodes
constexpr auto kRetentionEvery = std::chrono::minutes(10);

// What a caller who may not change state may read of the history (GetMetrics,
// GetActions): a burst of kReadBudgetRows rows, then kReadRefillRows a second.
// A call costs its limit, at least kMinReadCost, so tiny calls in a loop are
// bounded too. Documented in docs/dbus-api.md.
constexpr std::uint32_t kReadBudgetRows = 50000;
constexpr std::uint32_t kReadRefillRows = 10000;
constexpr std::uint32_t kMinReadCost = 100;

// The group whose members may call the mutating methods (sysusers.d/healerd.conf).
constexpr const char* kAdminGroup = "healerd";

std::uint64_t random_seed() { return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}(); }

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

std::string format_seconds(double seconds) { return fmt::format("{:.2f}", seconds); }

std::vector<LogField> unit_field(const std::string& unit) {
    if (unit.empty()) return {};
    return {LogField{"UNIT", unit}};
}

std::uint64_t usec_since_epoch(heal::TimePoint time) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count());
}

// For operators: local time, as journalctl shows it.
std::string pause_description(const heal::PauseRecord& pause) {
    if (!pause.until) return "until resumed";
    return fmt::format("until {:%Y-%m-%d %H:%M:%S %Z}",
                       fmt::localtime(std::chrono::system_clock::to_time_t(*pause.until)));
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
      monitor_(config_.units, config_.detector),
      engine_(health_, clock_),
      breaker_(config_.circuit_breaker_burst, config_.circuit_breaker_interval),
      policy_(std::make_shared<heal::LadderPolicy>()),
      ladder_(policy_) {
    config_.backend.user_manager = options_.user_bus;
    refresh_access_rule();
    store_ = std::make_unique<heal::Store>(config_.database.value_or(options_.state_dir / "healerd.db"));
    pauses_ = std::make_unique<heal::PauseBook>(*store_);
    incidents_ = std::make_unique<heal::IncidentBook>(*store_, breaker_);
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
    mark_stopped_units(readings);
    overlay_->apply(readings);
    const std::vector<heal::FailureEvent> failures = monitor_.observe(readings);
    for (const heal::TargetStatus& status : monitor_.targets())
        if (status.observed) health_.publish(status.unit, heal::HealthReport{observed, looks_healthy(status)});

    store_tick(readings);
    report_failures(failures);
    track_incidents(observed);
    expire_pauses();
    report_breaker_changes();
    publish_state();
    if (config_.auto_recover) auto_recover(observed);
    apply_retention();
}

// Only systemd knows whether a unit with no processes failed or was stopped.
void Service::mark_stopped_units(std::vector<heal::TargetReading>& readings) {
    for (heal::TargetReading& reading : readings) {
        if (reading.present || reading.unit.empty()) continue;
        try {
            reading.stopped = backend_->probe->probe(reading.unit).stopped;
            stopped_probe_error_logged_ = false;
        } catch (const std::exception& e) {
            // Then it is judged as not running, as if it had failed; logged once per outage.
            if (!stopped_probe_error_logged_)
                log_warning(fmt::format("cannot ask systemd whether {} was stopped: {}", reading.unit, e.what()));
            stopped_probe_error_logged_ = true;
        }
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
        fields.push_back({"VALUE", fmt::format("{:.1f}", event.value)});
        fields.push_back({"THRESHOLD", fmt::format("{:.1f}", event.threshold)});
        log(LOG_WARNING, message_id::failure_detected,
            fmt::format("failure detected on {}: {}", target_name(event.unit), event.reason), fields);
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
    for (const heal::IncidentNews& news : incidents_->take_news()) {
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
        case heal::IncidentNews::Kind::resolved: log(LOG_INFO, message_id::incident_resolved, news.message, fields); break;
        case heal::IncidentNews::Kind::given_up:
            log(LOG_WARNING, message_id::incident_given_up, news.message, fields);
            break;
        case heal::IncidentNews::Kind::store_failed: break;
        }
    }
}

void Service::give_up(const std::string& target, const std::string& reason) {
    // A dry run never acted: its incident says what would have been done, it did not fail.
    incidents_->give_up(target, reason, config_.backend.dry_run && !backend_->simulated());
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
    next.training = training_;
    next.backend = backend_->name;
    next.auto_recover = config_.auto_recover;
    next.units = config_.units;
    for (const heal::TargetStatus& status : monitor_.targets())
        if (!status.unit.empty()) next.unit_states.push_back({status.unit, std::string(status.state())});
    for (const auto& [unit, pause] : pauses_->all())
        next.paused.push_back({unit, pause.until ? usec_since_epoch(*pause.until) : 0, pause.paused_by});

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
    compare(next.training != state_.training, "TrainingState");
    compare(next.backend != state_.backend, "Backend");
    compare(next.auto_recover != state_.auto_recover, "AutoRecover");
    compare(next.units != state_.units, "WatchedUnits");
    compare(next.paused != state_.paused, "Paused");
    compare(next.unit_states != state_.unit_states, "UnitStates");
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

// ---- read-only requests ----------------------------------------------------

namespace {
void check_limit(std::uint32_t limit) {
    if (limit < 1 || limit > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument, fmt::format("limit must be 1-{} (got {})", kMaxLimit, limit));
}
}  // namespace

std::vector<heal::MetricRecord> Service::metrics(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetMetrics", limit);
    try {
        // Queued samples come from memory: a read never forces a write.
        return metric_writer_->recent(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

std::vector<heal::ActionRecord> Service::actions(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetActions", limit);
    try {
        return store_->recent_actions(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

std::vector<heal::IncidentRecord> Service::incidents(const heal::Caller& caller, std::uint32_t limit) {
    check_limit(limit);
    charge_read(caller, "GetIncidents", limit);
    try {
        return store_->recent_incidents(limit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

heal::Summary Service::summary() const {
    try {
        return store_->summary();
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, e.what());
    }
}

DetectReply Service::detect(std::optional<double> cpu, std::optional<double> memory) const {
    for (const auto& [name, value] : {std::pair{"cpu", cpu}, std::pair{"memory", memory}})
        if (value && !(std::isfinite(*value) && *value >= 0.0 && *value <= 100.0))
            throw RequestError(RequestCode::InvalidArgument,
                               fmt::format("{} must be a percentage from 0 to 100 (got {})", name, *value));
    DetectReply reply;
    reply.verdicts = monitor_.peek(cpu, memory);
    reply.detected = std::any_of(reply.verdicts.begin(), reply.verdicts.end(),
                                 [](const heal::Verdict& v) { return v.anomalous; });
    return reply;
}

PolicyReply Service::policy() const {
    // The state the policy would see if asked to recover now: the first
    // failed target, else the machine.
    const auto& targets = monitor_.targets();
    const auto failed = std::find_if(targets.begin(), targets.end(), [](const heal::TargetStatus& s) { return s.failed; });
    const heal::TargetStatus& status = failed != targets.end() ? *failed : targets.front();
    return PolicyReply{std::string(policy_->name()), policy_->probabilities(status.observation())};
}

void Service::decision(const std::string& unit, DecisionDone done) {
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    std::string target = unit;
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    if (unit.empty()) {
        try {
            target = recovery_target("");
        } catch (const RequestError&) {
            target = "";  // nothing failed (or all busy): the machine as it is now
        }
    }
    DecisionReply reply;
    reply.target = target;
    reply.incident_state = "none";
    if (const heal::Incident* incident = incidents_->find(target)) {
        reply.incident_state = heal::to_string(incident->state());
        reply.attempts = static_cast<std::uint32_t>(incident->attempts().size());
        reply.relapses = incident->relapses();
        if (const auto next = incident->next_attempt_at())
            reply.next_attempt_in =
                std::max(0.0, std::chrono::duration<double>(*next - std::chrono::steady_clock::now()).count());
    }
    heal::RecoveryPlan plan = plan_for(target, std::nullopt);
    reply.policy = std::string(plan.policy->name());
    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([this, plan = std::move(plan), backend = std::move(backend), reply = std::move(reply),
                done = std::move(done)]() mutable -> std::function<void()> {
        try {
            reply.decision = engine_.decide(plan, *backend);
        } catch (const std::exception& e) {
            return [done, error = std::string(e.what())] { done(RequestError(RequestCode::Failed, error)); };
        }
        return [done, reply = std::move(reply)] { done(reply); };
    });
}

// ---- recovery ---------------------------------------------------------------

std::string Service::recovery_target(const std::string& unit) const {
    if (!unit.empty()) {
        const heal::TargetStatus* status = target_status(unit);
        if (!status) throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
        if (recoveries_.contains(unit))
            throw RequestError(RequestCode::Busy, fmt::format("a recovery of {} is already running", unit));
        if (!status->failed)
            throw RequestError(RequestCode::Healthy, fmt::format("{} is healthy; nothing to recover", unit));
        return unit;
    }
    // Let healerd choose: a failed unit first (a unit is a cause, the
    // machine usually a symptom), then the machine.
    const auto& targets = monitor_.targets();  // the machine first
    std::vector<const heal::TargetStatus*> order;
    for (std::size_t i = 1; i < targets.size(); ++i) order.push_back(&targets[i]);
    order.push_back(&targets.front());
    bool any_failed = false;
    for (const heal::TargetStatus* status : order) {
        if (!status->failed) continue;
        any_failed = true;
        if (!recoveries_.contains(status->unit)) return status->unit;
    }
    if (any_failed) throw RequestError(RequestCode::Busy, "every failed target is already being recovered");
    throw RequestError(RequestCode::Healthy, "the machine and every watched unit are healthy; nothing to recover");
}

void Service::check_breaker(const std::string& target) {
    const auto now = std::chrono::steady_clock::now();
    if (const auto until = breaker_.open_until(target, now)) {
        const auto wait = std::chrono::ceil<std::chrono::seconds>(*until - now).count();
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("circuit breaker for {} is open: {} recoveries failed within {}s; retry in {}s",
                                       target_name(target), config_.circuit_breaker_burst,
                                       config_.circuit_breaker_interval.count(), wait));
    }
}

void Service::recover(const heal::Caller& caller, const std::string& unit, const std::string& action_name,
                      RecoveryDone done) {
    authorize(caller, "Recover");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    std::optional<Action> action;
    if (!action_name.empty()) {
        action = heal::parse_action(action_name);
        if (!action)
            throw RequestError(RequestCode::InvalidArgument,
                               fmt::format("unknown action '{}' (restart, scale_up, rollback, do_nothing)", action_name));
    }
    const std::string target = recovery_target(unit);
    if (pauses_->paused(target, std::chrono::system_clock::now()))
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("{} is paused ({}); resume it first", target_name(target),
                                       pause_description(*pauses_->find(target))));
    if (action && !heal::contains(config_.allowed_actions, *action))
        throw RequestError(RequestCode::NotAllowed, fmt::format("{} is not in AllowedActions=", action_name));
    if (config_.allowed_actions.none())
        throw RequestError(RequestCode::NotAllowed,
                           fmt::format("AllowedActions= allows no action on {}", target_name(target)));
    check_breaker(target);
    // The operator's request is an attempt of the open incident; after a
    // give-up, the operator starts a new one.
    const auto now = std::chrono::steady_clock::now();
    if (!incidents_->active(target)) {
        incidents_->open(*target_status(target), config_.incident_options(target), now);
        report_incident_news();
    }
    start_recovery(target, action, std::move(done));
    recoveries_.at(target).requested = action.has_value();
}

heal::RecoveryPlan Service::plan_for(const std::string& target, std::optional<Action> action) const {
    const heal::TargetStatus& status = *target_status(target);
    heal::RecoveryPlan plan;
    plan.unit = target;
    plan.action = action;
    plan.allowed = config_.allowed_actions;
    plan.observation = status.observation();
    if (const heal::Incident* incident = incidents_->active(target)) {
        plan.tried = incident->tried();
        incident->describe(plan.observation, std::chrono::steady_clock::now());
    }
    for (const heal::Verdict& verdict : status.verdicts)
        if (verdict.anomalous) plan.reason += (plan.reason.empty() ? "" : "; ") + verdict.reason;
    // Shadow mode: the ladder acts; a trained model is only asked.
    const bool shadow = config_.mode == heal::RecoveryMode::shadow;
    plan.policy = shadow ? ladder_ : policy_;
    if (shadow && model_loaded_) plan.shadow = policy_;
    plan.timeout = config_.recovery_timeout;
    return plan;
}

void Service::start_recovery(const std::string& target, std::optional<Action> action, RecoveryDone done) {
    heal::RecoveryPlan plan = plan_for(target, action);
    Recovery& recovery = recoveries_[target];
    recovery.done = std::move(done);
    std::shared_ptr<heal::Backend> backend = backend_;
    try {
        recovery.thread = std::thread([this, plan = std::move(plan), backend = std::move(backend)] {
            const auto on_decided = [&](heal::ActionRecord& record) {
                if (!store_ahead(record)) return false;
                const std::string kind(heal::to_string(record.failure_kind.value_or(heal::FailureKind::transient)));
                std::vector<LogField> fields = unit_field(plan.unit);
                fields.push_back({"ACTION", std::string(heal::to_string(record.action))});
                fields.push_back({"FAILURE_KIND", kind});
                if (record.id != 0) fields.push_back({"ATTEMPT_ID", std::to_string(record.id)});
                if (record.incident_id) fields.push_back({"INCIDENT_ID", std::to_string(*record.incident_id)});
                log(LOG_INFO, message_id::recovery_started,
                    fmt::format("recovering {} with {} ({}, attempt {}{}){}", target_name(plan.unit),
                                heal::to_string(record.action), kind, plan.observation.attempts + 1,
                                plan.action ? ", requested" : "", plan.reason.empty() ? "" : ": " + plan.reason),
                    fields);
                return true;
            };
            heal::RecoveryOutcome outcome;
            try {
                const auto on_probed = [&](const heal::UnitState& state) {
                    if (!plan.unit.empty()) learn_memory_limit(plan.unit, state.memory_max);
                };
                outcome = engine_.run(plan, *backend, stopping_, on_decided, on_probed);
            } catch (const std::exception& e) {
                outcome.cancelled = true;
                outcome.detail = e.what();
            }
            queue_.post([this, unit = plan.unit, outcome = std::move(outcome)]() mutable {
                finish_recovery(unit, std::move(outcome));
            });
        });
    } catch (const std::system_error& e) {
        recoveries_.erase(target);
        throw RequestError(RequestCode::Failed, fmt::format("cannot start a recovery thread: {}", e.what()));
    }
}

bool Service::store_ahead(heal::ActionRecord& record) {
    // On a worker thread: the store belongs to the loop. The attempt is
    // stored before it runs, so that no executed action is missing from the
    // history whatever happens next; at shutdown the wait is abandoned, and
    // then the action does not run.
    struct Handoff {
        std::mutex mutex;
        std::condition_variable stored;
        bool done = false;
        bool abandoned = false;
        heal::ActionRecord record;
    };
    auto handoff = std::make_shared<Handoff>();
    handoff->record = record;
    queue_.post([this, handoff] {
        std::lock_guard lock(handoff->mutex);
        if (handoff->abandoned) return;
        handoff->record.id = incidents_->begin_attempt(handoff->record, std::chrono::steady_clock::now());
        report_incident_news();
        handoff->done = true;
        handoff->stored.notify_all();
    });
    std::unique_lock lock(handoff->mutex);
    while (!handoff->done) {
        if (stopping_) {
            handoff->abandoned = true;
            return false;
        }
        handoff->stored.wait_for(lock, std::chrono::milliseconds(100));
    }
    record = handoff->record;
    return true;
}

void Service::finish_recovery(const std::string& target, heal::RecoveryOutcome outcome) {
    auto node = recoveries_.extract(target);
    Recovery& recovery = node.mapped();
    if (recovery.thread.joinable()) recovery.thread.join();
    const auto now = std::chrono::steady_clock::now();
    const heal::Incident* incident = incidents_->active(target);
    heal::ActionRecord& record = outcome.record;
    learn_control_group(target, outcome.control_group);

    if (outcome.not_run) {
        log_warning(fmt::format("cannot recover {}: {}", target_name(target), outcome.detail));
        // Nothing left that the policy may try: the escalation is exhausted.
        if (incident && !recovery.requested) give_up(target, outcome.detail);
        if (recovery.done) recovery.done(RequestError(RequestCode::NotAllowed, outcome.detail));
        return;
    }
    if (outcome.cancelled) {
        const std::string why = stopping_ ? "healerd is shutting down" : outcome.detail;
        log_warning(fmt::format("recovery of {} abandoned: {}", target_name(target), why));
        incidents_->finish_attempt(target, heal::AttemptResult::interrupted, now);
        if (record.id != 0) {
            // It ran, but was not judged: neither a success nor a failure.
            record.phase = heal::AttemptPhase::interrupted;
            record.detail = why;
            complete_attempt(record);
        }
        if (recovery.done) recovery.done(RequestError(RequestCode::Failed, "recovery abandoned: " + why));
        return;
    }
    record.detail = outcome.detail;
    // A dry run only said what it would do: it never counts as a failure.
    if (config_.backend.dry_run && !backend_->simulated()) record.phase = heal::AttemptPhase::dry_run;
    complete_attempt(record);
    const heal::AttemptResult result = record.phase == heal::AttemptPhase::dry_run ? heal::AttemptResult::dry_run
                                       : record.recovered                        ? heal::AttemptResult::healed
                                                                                 : heal::AttemptResult::failed;
    incidents_->finish_attempt(target, result, now, outcome.healed_at);
    report_incident_news();

    const std::string result_name = record.recovered ? "recovered" : "failed";
    std::vector<LogField> fields = unit_field(target);
    fields.push_back({"ACTION", std::string(heal::to_string(record.action))});
    fields.push_back({"RESULT", result_name});
    fields.push_back({"REWARD", fmt::format("{:.2f}", record.reward)});
    if (record.recovery_time) fields.push_back({"RECOVERY_TIME", format_seconds(*record.recovery_time)});
    if (record.incident_id) fields.push_back({"INCIDENT_ID", std::to_string(*record.incident_id)});
    std::string timing =
        record.recovery_time ? fmt::format(" in {}s", format_seconds(*record.recovery_time))
                             : fmt::format(" (not healthy within {}s)", format_seconds(config_.recovery_timeout.count() / 1000.0));
    if (incident && record.recovered)
        timing += fmt::format(", resolved if it stays healthy for {}s", incident->options().stable.count());
    else if (incident && incident->next_attempt_at())
        timing += fmt::format(", next attempt in {}s",
                              std::chrono::ceil<std::chrono::seconds>(*incident->next_attempt_at() - now).count());
    log(record.recovered ? LOG_INFO : LOG_WARNING, message_id::recovery_finished,
        fmt::format("{} of {}: {}{}, reward {:.2f}{}; {}", heal::to_string(record.action), target_name(target),
                    result_name, timing, record.reward, backend_->simulated() ? " (simulated)" : "", outcome.detail),
        fields);
    if (outcome.shadow_action) {
        std::vector<LogField> shadow = unit_field(target);
        shadow.push_back({"ACTION", std::string(heal::to_string(record.action))});
        shadow.push_back({"SHADOW_ACTION", std::string(heal::to_string(*outcome.shadow_action))});
        log(LOG_INFO, {},
            fmt::format("shadow mode: the {} policy would have chosen {} where the ladder chose {} on {}",
                        policy_->name(), heal::to_string(*outcome.shadow_action), heal::to_string(record.action),
                        target_name(target)),
            shadow);
    }
    if (events_) events_->recovery_finished(record);
    if (recovery.done) recovery.done(RecoveryReply{record, outcome.detail});
}

void Service::complete_attempt(heal::ActionRecord& record) {
    try {
        if (record.id != 0) {
            store_->finish_attempt(record);
        } else {
            record.id = store_->add_action(record);  // storing ahead had failed
        }
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot store the recovery of {}: {}", target_name(record.unit), e.what()));
    }
}

void Service::close_interrupted_attempts() {
    try {
        if (const std::int64_t interrupted = store_->interrupt_running())
            log_warning(fmt::format("{} recovery attempt(s) were still running when healerd last stopped; "
                                    "stored as interrupted",
                                    interrupted));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot close interrupted attempts: {}", e.what()));
    }
}

// ---- training ---------------------------------------------------------------

void Service::train(const heal::Caller& caller, std::uint32_t episodes) {
    authorize(caller, "Train");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (episodes < 1 || episodes > kMaxLimit)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("episodes must be 1-{} (got {})", kMaxLimit, episodes));
    if (training_) throw RequestError(RequestCode::Busy, "training is already running");

    heal::TrainingRequest request;
    request.episodes = episodes;
    request.seed = random_seed();
    request.model_path = model_path_;
    try {
        for (const heal::ActionRecord& record : store_->all_actions()) {
            // What the simulated backend did says nothing about this machine.
            if (record.simulated && !backend_->simulated()) continue;
            request.history.push_back(heal::Outcome{record.action,
                                                    record.failure_kind.value_or(heal::FailureKind::transient),
                                                    record.recovered, record.recovery_time.value_or(0.0),
                                                    record.relapsed});
        }
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot read the recovery history: {}", e.what()));
    }

    cancel_training_ = false;
    log_info(fmt::format("training a recovery policy for {} episodes on {} stored recoveries", episodes,
                         request.history.size()));
    trainer_ = std::thread([this, request = std::move(request)] {
        heal::TrainingResult result;
        std::string error;
        try {
            result = heal::train_recovery_policy(
                request,
                [this](const heal::TrainingProgress& progress) {
                    queue_.post([this, progress] {
                        if (events_) events_->training_progress(progress);
                    });
                },
                cancel_training_);
        } catch (const std::exception& e) {
            error = e.what();
        }
        queue_.post([this, result, error = std::move(error)] { finish_training(result, error); });
    });
    training_ = true;  // only once the thread exists: it alone clears the flag
    publish_state();
}

void Service::finish_training(heal::TrainingResult result, std::string error) {
    if (trainer_.joinable()) trainer_.join();
    training_ = false;
    bool success = error.empty() && !result.cancelled;
    std::string message;
    if (!error.empty()) {
        message = fmt::format("training failed: {}", error);
    } else if (result.cancelled) {
        message = fmt::format("training cancelled after {} episodes; the model was not saved", result.episodes);
    } else {
        message = fmt::format("trained {} episodes ({} steps), mean reward {:.2f}; saved {}", result.episodes,
                              result.steps, result.mean_reward, model_path_.string());
        try {
            policy_ = heal::load_policy(model_path_);
            model_loaded_ = true;
        } catch (const heal::ModelError& e) {
            success = false;
            message = fmt::format("trained, but the saved model does not load: {}", e.what());
        }
    }
    const int priority = success ? LOG_INFO : (result.cancelled && error.empty() ? LOG_NOTICE : LOG_ERR);
    log(priority, message_id::training_finished, message,
        {{"EPISODES", std::to_string(result.episodes)}, {"REWARD", fmt::format("{:.2f}", result.mean_reward)},
         {"RESULT", success ? "success" : (result.cancelled ? "cancelled" : "failed")}});
    if (events_) events_->training_finished(success, result.episodes, result.mean_reward, message);
    publish_state();
}

void Service::load_model(bool at_startup) {
    std::error_code ec;
    if (!std::filesystem::exists(model_path_, ec)) {
        if (at_startup) log_info(fmt::format("no trained model at {}; using the default ladder", model_path_.string()));
        return;
    }
    try {
        policy_ = heal::load_policy(model_path_);
        model_loaded_ = true;
        log_info(fmt::format("loaded the {} policy from {}", policy_->name(), model_path_.string()));
    } catch (const heal::ModelError& e) {
        log_error(fmt::format("{}; using the default ladder (the file is left as it is)", e.what()));
    }
}

// ---- fault injection ----------------------------------------------------------

void Service::simulate_failure(const heal::Caller& caller, const std::string& kind, const std::string& unit,
                               InjectionDone done) {
    authorize(caller, "SimulateFailure");
    if (stopping_) throw RequestError(RequestCode::Failed, "healerd is shutting down");
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
    if (kind.empty() || kind == "synthetic") {
        overlay_->inject_synthetic(unit);
        const std::string what = fmt::format(
            "synthetic failure injected into {}: high CPU and memory until recovered (at most {} samples)",
            target_name(unit), heal::FaultOverlay::kSyntheticSamples);
        log_info(what);
        done(what);
        return;
    }
    const auto mode = heal::parse_fault_mode(kind);
    if (!mode)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("unknown failure kind '{}' (synthetic, cpu_runaway, memory_leak, crash, hang)", kind));
    if (unit.empty())
        throw RequestError(RequestCode::InvalidArgument, fmt::format("failure kind {} needs a watched unit", kind));
    // With either backend, so a configuration behaves the same when simulated.
    if (const auto refusal = heal::real_fault_refusal(config_, options_.config_path, unit))
        throw RequestError(RequestCode::FaultInjectionNotAllowed, *refusal);

    std::shared_ptr<heal::Backend> backend = backend_;
    run_worker([this, mode = *mode, unit, backend = std::move(backend), done = std::move(done)] {
        heal::InjectionResult result;
        try {
            result = backend->injector->inject(mode, unit);
        } catch (const std::exception& e) {
            result = heal::InjectionResult{false, e.what()};
        }
        return std::function<void()>([result, done] {
            if (result.ok) {
                log_info(result.detail);
                done(result.detail);
            } else {
                log_warning(fmt::format("fault injection failed: {}", result.detail));
                done(RequestError(RequestCode::Failed, result.detail));
            }
        });
    });
}

// ---- maintenance pauses ------------------------------------------------------------

namespace {

std::vector<LogField> caller_fields(const std::string& unit, const heal::Caller& caller) {
    std::vector<LogField> fields = unit_field(unit);
    fields.push_back({"CALLER_UID", std::to_string(caller.uid)});
    return fields;
}

}  // namespace

void Service::check_pause_target(const std::string& unit) const {
    if (!unit.empty() && !target_status(unit))
        throw RequestError(RequestCode::UnknownUnit, fmt::format("{} is not a watched unit", unit));
}

std::string Service::pause(const heal::Caller& caller, const std::string& unit, std::uint64_t seconds) {
    authorize(caller, "Pause");
    check_pause_target(unit);
    // Ten years: longer is a typo, and keeps the time point exact.
    if (seconds > 315'360'000)
        throw RequestError(RequestCode::InvalidArgument,
                           fmt::format("a pause of {}s is longer than ten years; pause without a duration", seconds));
    const auto now = std::chrono::system_clock::now();
    heal::PauseRecord record{unit, now, std::nullopt, caller.uid};
    if (seconds > 0) record.until = now + std::chrono::seconds(seconds);
    try {
        pauses_->pause(record);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot store the pause: {}", e.what()));
    }
    std::vector<LogField> fields = caller_fields(unit, caller);
    if (record.until) fields.push_back({"PAUSE_SEC", std::to_string(seconds)});
    const std::string what = fmt::format("{} paused {}: sampled and shown, but no action", target_name(unit),
                                         pause_description(record));
    log(LOG_NOTICE, message_id::target_paused, what, fields);
    publish_state();
    return what;
}

std::string Service::resume(const heal::Caller& caller, const std::string& unit) {
    authorize(caller, "Resume");
    // A pause outlives its unit's removal from Units=, and can still be resumed.
    if (!pauses_->find(unit)) {
        check_pause_target(unit);
        throw RequestError(RequestCode::InvalidArgument, fmt::format("{} is not paused", target_name(unit)));
    }
    try {
        pauses_->resume(unit);
    } catch (const heal::StoreError& e) {
        throw RequestError(RequestCode::Failed, fmt::format("cannot remove the pause: {}", e.what()));
    }
    const std::string what = fmt::format("{} resumed: healerd acts on its failures again", target_name(unit));
    log(LOG_NOTICE, message_id::target_resumed, what, caller_fields(unit, caller));
    publish_state();
    return what;
}

void Service::expire_pauses() {
    try {
        for (const heal::PauseRecord& ended : pauses_->expire(std::chrono::system_clock::now()))
            log(LOG_NOTICE, message_id::pause_expired,
                fmt::format("the pause of {} ended: healerd acts on its failures again", target_name(ended.unit)),
                unit_field(ended.unit));
    } catch (const heal::StoreError& e) {
        log_error(fmt::format("cannot end a pause: {}", e.what()));
    }
}

void Service::run_worker(std::function<std::function<void()>()> work) {
    const std::uint64_t id = next_worker_++;
    workers_[id] = std::thread([this, id, work = std::move(work)] {
        std::function<void()> then = work();
        queue_.post([this, id, then = std::move(then)] {
            auto node = workers_.extract(id);
            if (!node.empty() && node.mapped().joinable()) node.mapped().join();
            then();
        });
    });
}

// ---- callers ------------------------------------------------------------------

void Service::refresh_access_rule() {
    access_.daemon_uid = geteuid();
    access_.admin_group.reset();
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(1024);
    int r = 0;
    // The buffer grows until the group's member list fits (1 MiB at most).
    while ((r = getgrnam_r(kAdminGroup, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < (1u << 20))
        buffer.resize(buffer.size() * 2);
    if (r == 0 && found) {
        access_.admin_group = found->gr_gid;
    } else if (!options_.user_bus) {
        log_warning(fmt::format("group {} {}: only root may call Recover, Train and SimulateFailure", kAdminGroup,
                                r != 0 ? fmt::format("cannot be looked up ({})", std::generic_category().message(r))
                                       : std::string("does not exist")));
    }
}

void Service::authorize(const heal::Caller& caller, std::string_view method) const {
    if (heal::may_change_state(caller, access_)) return;
    log(LOG_WARNING, message_id::access_denied,
        fmt::format("refused {} from uid {}: only root{} and group {} may change healerd's state", method, caller.uid,
                    access_.daemon_uid == 0 ? "" : fmt::format(", uid {}", access_.daemon_uid), kAdminGroup),
        {{"CALLER_UID", std::to_string(caller.uid)}, {"METHOD", std::string(method)}});
    throw RequestError(RequestCode::AccessDenied,
                       fmt::format("{} needs root or membership in group {}", method, kAdminGroup));
}

void Service::charge_read(const heal::Caller& caller, std::string_view method, std::uint32_t rows) {
    // Whoever may change state may already make healerd work hard (Train).
    if (heal::may_change_state(caller, access_)) return;
    const auto verdict =
        read_budget_.charge(caller.uid, std::max(rows, kMinReadCost), std::chrono::steady_clock::now());
    if (verdict.granted) return;
    const auto retry = verdict.retry_after.count();
    // Once per spell, so a caller in a loop does not flood the journal.
    if (verdict.newly_refused)
        log(LOG_NOTICE, message_id::rate_limited,
            fmt::format("rate limiting {} from uid {}: more than {} rows at once or {} a second", method,
                        caller.uid, kReadBudgetRows, kReadRefillRows),
            {{"CALLER_UID", std::to_string(caller.uid)}, {"METHOD", std::string(method)}});
    throw RequestError(RequestCode::RateLimited,
                       fmt::format("rate limited: {} rows at once, {} a second per user; retry in {} s", kReadBudgetRows,
                                   kReadRefillRows, retry));
}

// ---- configuration ----------------------------------------------------------

void Service::learn_control_group(const std::string& unit, const std::optional<std::string>& control_group) {
    if (!proc_sampler_ || unit.empty() || !control_group || control_group->empty()) return;
    const auto known = control_groups_.find(unit);
    if (known != control_groups_.end() && known->second == *control_group) return;
    control_groups_[unit] = *control_group;
    watch_units(config_.units);
}

void Service::learn_memory_limit(const std::string& unit, std::optional<std::uint64_t> memory_max) {
    std::lock_guard lock(memory_limits_mutex_);
    memory_limits_[unit] = memory_max;
}

void Service::apply_memory_limits(heal::Sample& sample) const {
    std::lock_guard lock(memory_limits_mutex_);
    for (heal::UnitSample& unit : sample.units) {
        if (unit.memory_max_bytes) continue;
        if (const auto known = memory_limits_.find(unit.unit); known != memory_limits_.end())
            unit.memory_max_bytes = known->second;
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
                learn_memory_limit(unit, state.memory_max);
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
    const std::filesystem::path database = config_.database.value_or(options_.state_dir / "healerd.db");
    if (config.database.value_or(options_.state_dir / "healerd.db") != database) {
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
    monitor_.reconfigure(config.units, config.detector);
    breaker_.reconfigure(config.circuit_breaker_burst, config.circuit_breaker_interval);
    metric_writer_->set_interval(config.metric_write_interval);
    config_ = std::move(config);
    if (units_changed) watch_units(config_.units);
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
