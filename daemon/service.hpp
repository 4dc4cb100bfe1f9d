#pragma once
// The daemon's state and behaviour, independent of D-Bus: the sampling tick
// (sample -> detect -> store), recoveries and training on worker threads,
// configuration reloads. Everything here runs on the event loop thread;
// worker threads only come back through the LoopQueue.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <systemd/sd-event.h>

#include "config/config.hpp"
#include "core/access.hpp"
#include "loop_queue.hpp"
#include "recovery/backend.hpp"
#include "recovery/circuit_breaker.hpp"
#include "recovery/engine.hpp"
#include "recovery/fault_overlay.hpp"
#include "recovery/incident_book.hpp"
#include "recovery/pause_book.hpp"
#include "recovery/raise_book.hpp"
#include "detection/monitor.hpp"
#include "detection/probe_runner.hpp"
#include "recovery/simulated_sampler.hpp"
#include "rl/policy.hpp"
#include "rl/trainer.hpp"
#include "sampling/proc_sampler.hpp"
#include "storage/metric_writer.hpp"
#include "storage/retention_schedule.hpp"
#include "storage/store.hpp"

namespace healerd {

// A refused request; the bus turns `code` into org.healerd.Healer1.Error.<Code>
// (AccessDenied into org.freedesktop.DBus.Error.AccessDenied).
class RequestError : public std::runtime_error {
public:
    enum class Code {
        InvalidArgument,
        UnknownUnit,
        NotAllowed,
        Busy,
        Failed,
        Healthy,
        AccessDenied,              // the caller may not change healerd's state
        RateLimited,               // the caller's history-read budget is spent
        FaultInjectionNotAllowed,  // the unit has not opted in to real faults
    };
    RequestError(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Code code() const { return code_; }

private:
    Code code_;
};

// What the service tells the outside world (the bus object implements it).
class ServiceEvents {
public:
    virtual ~ServiceEvents() = default;
    virtual void failure_detected(const heal::FailureEvent& event) = 0;
    virtual void recovery_finished(const heal::ActionRecord& record) = 0;
    virtual void training_progress(const heal::TrainingProgress& progress) = 0;
    virtual void training_finished(bool success, std::uint32_t episodes, double mean_reward,
                                   const std::string& message) = 0;
    virtual void properties_changed(const std::vector<const char*>& names) = 0;
};

struct ServiceOptions {
    std::filesystem::path config_path;
    bool config_required = false;  // --config given: it must exist
    std::filesystem::path state_dir;
    bool user_bus = false;
    bool simulated = false;          // simulated executors, fault injection and unit probe
    bool simulated_metrics = false;  // simulated samples too: nothing real is read
};

// The live state the bus exposes as properties.
struct LiveState {
    bool healthy = true;
    double cpu = 0.0;
    double memory = 0.0;
    std::uint32_t failure_count = 0;
    std::string policy;
    bool model_loaded = false;
    std::string model_provenance;  // JSON text (rl/provenance.hpp); "" without one
    bool training = false;
    std::string backend;
    bool auto_recover = false;
    std::vector<std::string> units;
    struct Pause {
        std::string unit;                       // "" for the machine
        std::uint64_t until_usec = 0;           // since the epoch; 0: until resumed
        std::uint32_t paused_by = 0;
        bool operator==(const Pause&) const = default;
    };
    std::vector<Pause> paused;
    // A limit scale_up raised and healerd has not put back yet.
    struct Raise {
        std::string unit;
        std::string property;              // systemd's name: MemoryMax, MemoryHigh, CPUQuotaPerSecUSec
        std::uint64_t configured = 0;
        std::uint64_t raised = 0;
        std::uint64_t raised_at_usec = 0;  // since the epoch
        // When it goes back if the unit stays stable; 0 while it is not
        // stable now, UINT64_MAX when it stays until reboot (ScaleUpExpireSec=0).
        std::uint64_t expires_usec = 0;
        bool operator==(const Raise&) const = default;
    };
    std::vector<Raise> raised_limits;
    struct UnitHealth {
        std::string unit;
        std::string state;  // TargetStatus::state()
        bool operator==(const UnitHealth&) const = default;
    };
    std::vector<UnitHealth> unit_states;  // the watched units, in Units= order
    // The limits each watched unit is judged against now, in Units= order:
    // its cgroup's, else systemd's (UINT64_MAX: none).
    struct UnitLimits {
        std::string unit;
        std::uint64_t memory_max = 0;
        std::uint64_t memory_high = 0;
        std::uint64_t cpu_quota_per_sec_usec = 0;
        bool operator==(const UnitLimits&) const = default;
    };
    std::vector<UnitLimits> unit_limits;

    bool operator==(const LiveState&) const = default;
};

struct RecoveryReply {
    heal::ActionRecord record;
    std::string detail;
};
using RecoveryDone = std::function<void(std::variant<RecoveryReply, RequestError>)>;
using InjectionDone = std::function<void(std::variant<std::string, RequestError>)>;

struct DetectReply {
    bool detected = false;
    std::vector<heal::Verdict> verdicts;
};

struct PolicyReply {
    std::string name;
    heal::ActionProbabilities probabilities{};
};

// What Recover would do on a target now, and why (GetDecision).
struct DecisionReply {
    std::string policy;
    std::string target;
    heal::Decision decision;
    std::string incident_state;  // "none", or the open incident's state
    std::uint32_t attempts = 0;
    std::uint32_t relapses = 0;
    std::optional<double> next_attempt_in;  // seconds, while waiting
};
using DecisionDone = std::function<void(std::variant<DecisionReply, RequestError>)>;

class Service {
public:
    // Opens the database and loads the model from the state directory; throws
    // heal::StoreError (naming the file) or std::runtime_error.
    Service(sd_event* event, ServiceOptions options, heal::Config config);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    void set_events(ServiceEvents* events) { events_ = events; }
    // Arms the sampling timer (the first sample is taken at once).
    void start();

    const LiveState& state() const { return state_; }
    std::string status_line() const;

    // Read-only requests; throw RequestError for bad arguments. The history
    // reads charge the caller's read budget (unless it may change state).
    std::vector<heal::MetricRecord> metrics(const heal::Caller& caller, std::uint32_t limit);  // queued samples too
    std::vector<heal::ActionRecord> actions(const heal::Caller& caller, std::uint32_t limit);
    std::vector<heal::IncidentRecord> incidents(const heal::Caller& caller, std::uint32_t limit);
    // A page of an export (ListMetrics, ListActions, ListIncidents): page.limit
    // 1-kMaxLimit, charged like the reads above. The first page of metrics
    // (after_id 0) writes the queued samples first, so that they have the
    // row ids the next pages go on from.
    std::vector<heal::MetricRecord> metrics_page(const heal::Caller& caller, const heal::HistoryPage& page);
    std::vector<heal::ActionRecord> actions_page(const heal::Caller& caller, const heal::HistoryPage& page);
    std::vector<heal::IncidentRecord> incidents_page(const heal::Caller& caller, const heal::HistoryPage& page);
    heal::Summary summary() const;
    DetectReply detect(std::optional<double> cpu, std::optional<double> memory) const;
    PolicyReply policy() const;
    // What Recover would do on `unit` ("" = the target Recover would pick, or
    // the machine), from a worker thread: the probes block.
    void decision(const std::string& unit, DecisionDone done);

    // Mutating requests, for callers allowed to change state (root,
    // healerd's own uid, group healerd). They throw RequestError when
    // refused up front; otherwise `done` is called on the loop thread when
    // the work finishes.
    void recover(const heal::Caller& caller, const std::string& unit, const std::string& action, RecoveryDone done);
    void train(const heal::Caller& caller, std::uint32_t episodes);
    void simulate_failure(const heal::Caller& caller, const std::string& kind, const std::string& unit,
                          InjectionDone done);
    // Maintenance pauses ("" = the machine): a paused target is sampled and
    // shown but gets no action; `seconds` 0 pauses until resumed. They
    // return a sentence saying what was done.
    std::string pause(const heal::Caller& caller, const std::string& unit, std::uint64_t seconds);
    std::string resume(const heal::Caller& caller, const std::string& unit);

    // SIGHUP: re-reads the configuration; a bad one is logged and the
    // running configuration kept. Returns whether the new one was applied.
    bool reload();
    // SIGTERM: stops sampling, cancels training, cuts validations short,
    // waits for worker threads and finishes what they handed back.
    void shutdown();

private:
    struct Recovery {
        std::thread thread;
        RecoveryDone done;
        bool requested = false;  // the operator named the action
    };

    static int on_tick(sd_event_source* source, std::uint64_t usec, void* self);
    void tick();
    void ask_systemd(const heal::Sample& sample, std::vector<heal::TargetReading>& readings);
    // The watched units' health probes (units.d [Probe]), from config_.
    void configure_probes();
    // Adds each unit's probe states to its reading.
    void attach_probes(std::vector<heal::TargetReading>& readings) const;
    void report_probe_change(const heal::ProbeSpec& spec, const heal::ProbeState& state) const noexcept;
    void note_unit_limits(const std::vector<heal::TargetReading>& readings);
    void store_tick(const std::vector<heal::TargetReading>& readings);
    // Writes queued samples now, so a query or a stop sees every tick.
    void flush_metrics();
    // Runs a metric write; a failure is logged once until writes work again,
    // and never leaves the tick.
    void write_metrics(const std::function<void()>& write);
    void report_failures(const std::vector<heal::FailureEvent>& events);
    void track_incidents(heal::SteadyTime now);
    void report_incident_news();  // journals what the incident book has to say
    void give_up(const std::string& target, const std::string& reason);
    void check_pause_target(const std::string& unit) const;  // the machine or a watched unit
    void expire_pauses();
    // Raised limits: stored when scale_up raised them, put back once the
    // unit has been stable for ScaleUpExpireSec= (not while it uses nearly
    // all of the configured memory) or after a restart healed it.
    void record_raise(const std::string& unit, const std::vector<heal::LimitChange>& changes);
    void restore_raised_limits(const std::vector<heal::TargetReading>& readings);
    void start_restore(const std::string& unit, const std::string& why);
    // OnGiveUp=: the operator's alert unit, started off the event loop.
    void send_alert(const heal::IncidentNews& news);
    void finish_restore(const std::string& unit, const heal::ExecutionResult& result, const std::string& why);
    // Failing, in an incident or being recovered: not stable.
    bool troubled(const std::string& unit) const;
    // DryRun= on the systemd backend: actions are only logged, never run.
    bool dry_running() const { return config_.backend.dry_run && !backend_->simulated(); }
    void report_breaker_changes();                     // journals each opening and closing
    void report_stopped_units(const LiveState& next) const;
    // Starts the next attempt of each incident whose backoff has passed.
    void auto_recover(heal::SteadyTime now);
    void apply_retention();
    // Rewrites [Export] PrometheusTextfile= when ExportIntervalSec has passed
    // (service_export.cpp); `sample` gives the pressure gauges.
    void export_metrics(const heal::Sample& sample, heal::SteadyTime now);

    // Checks a Recover request; returns the target to recover.
    std::string recovery_target(const std::string& unit) const;
    void check_breaker(const std::string& target);
    // The attempt as the engine will see it: allow-list, the incident so far, policies.
    heal::RecoveryPlan plan_for(const std::string& target, std::optional<heal::Action> action) const;
    void start_recovery(const std::string& target, std::optional<heal::Action> action, RecoveryDone done);
    void finish_recovery(const std::string& target, heal::RecoveryOutcome outcome);
    // Stores the attempt as running from a worker thread, through the loop;
    // false when healerd stops first (the attempt must then not run).
    bool store_ahead(heal::ActionRecord& record);
    void complete_attempt(heal::ActionRecord& record);
    void close_interrupted_attempts();
    // Runs `work` on a worker thread; what it returns then runs on the loop thread.
    void run_worker(std::function<std::function<void()>()> work);
    // Trains on a worker thread; with an incumbent (automatic retraining) the
    // new model is saved only if it scores at least as well.
    void start_training(std::uint32_t episodes, std::shared_ptr<const heal::Policy> incumbent);
    // Retrains once RetrainAfter= incidents have closed since the last training.
    void maybe_retrain();
    void finish_training(heal::TrainingResult result, std::string error, const std::string& incumbent);
    void report_retraining(const heal::TrainingResult& result, const std::string& incumbent) const;
    void load_model(bool at_startup);

    // Refuses (and logs) a caller that may not call the mutating `method`.
    void authorize(const heal::Caller& caller, std::string_view method) const;
    // Takes a history read of `rows` from the caller's budget, or refuses it.
    void charge_read(const heal::Caller& caller, std::string_view method, std::uint32_t rows);
    // Looks up the healerd group again (at start and on reload).
    void refresh_access_rule();

    void apply_config(heal::Config config);
    heal::Sample take_sample();
    // This machine's CPUs and RAM (the simulated machine's with simulated metrics).
    heal::MachineShape machine_shape() const;
    void watch_units(const std::vector<std::string>& units);
    void learn_control_group(const std::string& unit, const std::optional<std::string>& control_group);
    void learn_memory_limits(const std::string& unit, const heal::UnitState& state);
    void apply_memory_limits(heal::Sample& sample) const;
    std::shared_ptr<heal::Backend> make_backend(const heal::Config& config) const;
    // The seed of one consumer (`stream`) of the simulation's random numbers under `config`.
    std::uint64_t simulation_seed(const heal::Config& config, std::uint32_t stream) const;
    void publish_state();
    const heal::TargetStatus* target_status(const std::string& unit) const;

    sd_event* event_;
    ServiceOptions options_;
    heal::Config config_;
    ServiceEvents* events_ = nullptr;
    LoopQueue queue_;

    std::unique_ptr<heal::Store> store_;
    std::unique_ptr<heal::PauseBook> pauses_;
    std::unique_ptr<heal::RaiseBook> raises_;
    std::set<std::string> restoring_;         // a restore of the unit's limits is running
    std::set<std::string> restore_deferred_;  // told once that its restore waits for memory to drop
    std::set<std::string> restart_healed_;    // raised, and a restart healed it since: restored when its incident ends
    std::unique_ptr<heal::MetricWriter> metric_writer_;  // samples, a few ticks at a time
    std::filesystem::path model_path_;
    // The simulation's seed where [Simulation] Seed= is unset: drawn at start, logged.
    std::uint64_t random_simulation_seed_;
    std::shared_ptr<heal::FaultOverlay> overlay_;
    std::shared_ptr<heal::Backend> backend_;
    // Exactly one of the two: the real system, or the simulated one (--simulated-metrics).
    std::unique_ptr<heal::ProcSampler> proc_sampler_;
    std::unique_ptr<heal::SimulatedSampler> simulated_sampler_;
    std::map<std::string, std::string> control_groups_;  // per unit, as the probe reported them
    // systemd's MemoryMax per unit, as the probe reported it (recovery
    // threads too, after a scale_up): the limit units are judged against
    // where their cgroup shows none.
    mutable std::mutex memory_limits_mutex_;
    struct MemoryLimits {
        std::optional<std::uint64_t> max;
        std::optional<std::uint64_t> high;
    };
    std::map<std::string, MemoryLimits> memory_limits_;
    std::uint64_t memory_total_bytes_ = 0;
    heal::AccessRule access_;
    heal::ReadBudget read_budget_;
    heal::RetentionSchedule retention_schedule_;
    heal::Monitor monitor_;
    std::unique_ptr<heal::ProbeRunner> probes_;
    heal::HealthBoard health_;
    heal::RealClock clock_;
    heal::RecoveryEngine engine_;
    heal::CircuitBreaker breaker_;
    std::shared_ptr<const heal::Policy> policy_;  // the trained model, else the ladder
    std::shared_ptr<const heal::Policy> ladder_;
    bool model_loaded_ = false;
    std::string model_provenance_;
    std::unique_ptr<heal::IncidentBook> incidents_;

    sd_event_source* timer_ = nullptr;
    std::uint64_t next_tick_usec_ = 0;
    bool sample_error_logged_ = false;
    bool unit_probe_error_logged_ = false;
    // What systemd last said of each unit, and of which cgroup (0: not running).
    struct UnitAnswer {
        bool asked = false;
        std::uint64_t cgroup_id = 0;
        std::optional<std::uint64_t> automatic_restarts;
        std::uint64_t settings = 0;  // UnitProbe::settings_stamp when it was asked
    };
    // Each watched unit's limits in this tick's readings, for LiveState.
    std::vector<LiveState::UnitLimits> unit_limits_;
    std::map<std::string, UnitAnswer> unit_answers_;
    bool store_error_logged_ = false;  // until the metric writer commits again
    bool bad_sample_logged_ = false;
    heal::SteadyTime next_export_{};  // the first tick exports at once
    bool export_error_logged_ = false;  // until the export file is written again

    std::map<std::string, Recovery> recoveries_;     // in progress, per target
    std::map<std::uint64_t, std::thread> workers_;   // fault injections and decisions in flight
    std::uint64_t next_worker_ = 0;
    std::thread trainer_;
    std::atomic<bool> cancel_training_{false};
    std::atomic<bool> stopping_{false};
    bool training_ = false;
    // The model file's time at start (the epoch without one), then the end
    // of each training: RetrainAfter= counts incidents closed since.
    heal::TimePoint last_training_{};

    LiveState state_;
    std::string last_status_;
};

}  // namespace healerd
