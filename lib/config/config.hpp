#pragma once
// healerd's configuration: /etc/healerd/healerd.conf plus drop-ins in
// /etc/healerd/healerd.conf.d/*.conf, and per-unit files in
// /etc/healerd/units.d/, in systemd's unit-file syntax. Every key has a
// default, so an absent main file is an empty one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/action.hpp"
#include "detection/adaptive_detector.hpp"
#include "detection/detection_config.hpp"
#include "detection/probe_spec.hpp"
#include "core/action_set.hpp"
#include "recovery/backend.hpp"
#include "recovery/incident.hpp"
#include "storage/store.hpp"

namespace heal {

// A file that cannot be read or holds a bad line. what() reads
// "FILE:LINE: ..." naming the key and, for a bad value, the value.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::filesystem::path file, int line, const std::string& message);
    const std::filesystem::path& file() const { return file_; }
    int line() const { return line_; }  // 0 when the problem is not on one line

private:
    std::filesystem::path file_;
    int line_;
};

// One detection key set in a units.d/ file, applied over the main file's.
struct DetectionAssignment {
    std::string section;
    std::string key;
    std::string value;
};

// Settings of one watched unit, from units.d/NAME.conf next to the main file
// (with drop-ins NAME.conf.d/*.conf). Unset keys keep these defaults.
struct UnitSettings {
    // [Unit] AllowFaultInjection=: real faults (signals to the unit's
    // processes) may be injected; off unless the operator opts in.
    bool allow_fault_injection = false;
    // [Unit] StableSec=: this unit's own StableSec (a service that fails
    // hours after a bad start needs longer than one that crashes at once).
    std::optional<std::chrono::seconds> stable;
    // [Unit] AllowedActions=: this unit's own allow-list, replacing
    // [Recovery]'s (a database may be restarted but never rolled back).
    std::optional<ActionSet> allowed_actions;
    // [Unit] MemoryMaxCeiling=, CPUQuotaCeiling=: this unit's own scale_up
    // ceilings, replacing [Recovery]'s.
    std::optional<LimitCeiling> memory_max_ceiling;
    std::optional<LimitCeiling> cpu_quota_ceiling;

    // [Probe]: health probes asking the unit whether it works. Probe= adds
    // one (an empty assignment clears the list); the other keys apply to
    // every probe of the unit: ProbeIntervalSec=, ProbeTimeoutSec=,
    // ProbeFailureThreshold=, ProbeSuccessThreshold=, ProbeInitialDelaySec=,
    // ProbeExpectStatus=.
    std::vector<ProbeTarget> probes;
    ProbeOptions probe_options;
    // The probes as a ProbeRunner takes them; exec probes run as `user`
    // (the unit's User=, "" for healerd's own).
    std::vector<ProbeSpec> probe_specs(std::string_view unit, std::string_view user) const;

    // The detection sections ([Detection], [CpuSaturation], ...), in file
    // order; keys not set here keep the main file's values.
    std::vector<DetectionAssignment> detection;
};

// [Recovery] Mode=: `shadow` lets the default ladder act while the learned
// policy's choice is only written to the journal, to compare the two.
enum class RecoveryMode { active, shadow };

struct Config {
    // [Monitor]
    std::chrono::milliseconds sample_interval{1000};  // SampleIntervalSec=
    std::vector<std::string> units;                   // Units=

    // [Detection], [CpuSaturation], [MemoryLeak], [MemoryPressure],
    // [CPUPressure], [IOPressure], [Anomaly] and [Detector] (the original
    // design's detector, in detection.original)
    DetectionConfig detection;

    // [Recovery]
    bool auto_recover = true;                          // AutoRecover=
    ActionSet allowed_actions = all_actions();        // AllowedActions=
    std::chrono::milliseconds recovery_timeout{5000};  // RecoveryTimeoutSec=
    std::uint32_t circuit_breaker_burst = 3;           // CircuitBreakerBurst=
    std::chrono::seconds circuit_breaker_interval{600};  // CircuitBreakerIntervalSec=; 0 = off
    IncidentOptions incident;                          // StableSec=, BackoffSec=, BackoffMaxSec=, MaxAttempts=
    RecoveryMode mode = RecoveryMode::active;          // Mode=
    // ScaleUpExpireSec=: a raised limit goes back to the configured one once
    // the unit has been stable this long; 0 keeps it until reboot.
    std::chrono::seconds scale_up_expire{3600};
    // OnGiveUp=: a template service (NAME@.service) started as
    // NAME@INCIDENT_ID.service when healerd gives up on an incident; empty: none.
    std::string on_give_up;
    // ScaleUpFactor=, MemoryMaxCeiling=, CPUQuotaCeiling=, RollbackHook=, RollbackTimeoutSec=,
    // PackageChangeWindowSec=, DryRun= (user_manager comes from --user)
    BackendOptions backend;

    // [Learning]
    std::uint32_t retrain_after = 5;      // RetrainAfter=: closed incidents between automatic retrainings; 0 = never
    std::uint32_t retrain_episodes = 100;  // RetrainEpisodes=: PPO rollouts per automatic retraining

    // [Storage]
    std::optional<std::filesystem::path> database;     // Path=; absent: <state dir>/healerd.db
    Retention retention = default_retention();          // MaxAgeSec=, MaxRows=
    std::chrono::milliseconds metric_write_interval{10000};  // WriteIntervalSec=

    // [Export]
    std::optional<std::filesystem::path> prometheus_textfile;  // PrometheusTextfile=; absent: no export
    std::chrono::seconds export_interval{15};                  // ExportIntervalSec=

    // [Simulation]: Seed=, HealChance= (healerd --simulated only)
    SimulationOptions simulation;

    // Per-unit settings by unit name; a unit without a file has the defaults.
    std::map<std::string, UnitSettings, std::less<>> unit_settings;
    const UnitSettings& settings_of(std::string_view unit) const;
    // The incident settings of `unit` ("" = the machine): [Recovery]'s, with
    // the unit's own StableSec= where it has one.
    IncidentOptions incident_options(std::string_view unit) const;
    // The actions allowed on `unit` ("" = the machine): its own
    // AllowedActions= where it has one, else [Recovery]'s.
    ActionSet allowed_actions_of(std::string_view unit) const;
    // The scale_up ceilings of `unit`: each its own where its units.d file
    // sets it, else [Recovery]'s.
    LimitCeilings ceilings_of(std::string_view unit) const;
    // The detection settings of `unit` ("" = the machine): the main file's,
    // with the unit's own keys on top.
    DetectionConfig detection_of(std::string_view unit) const;

    static Retention default_retention();
};

// Reads `main_file` (absent is fine unless `main_required`), then every
// `*.conf` in `main_file` + ".d/" in lexical order, each overriding the keys
// it sets. Units= appends (an empty assignment clears the list); every other
// key, AllowedActions= included, takes the last assignment. Then the
// per-unit files of unit_settings_directory(). Only regular files (or
// symlinks to them) are read. Throws ConfigError for the first problem
// found, std::filesystem's included.
Config load_config(const std::filesystem::path& main_file, bool main_required);

// healerd's defaults: /etc/healerd/healerd.conf and /var/lib/healerd for the
// system service; for `healerd --user`, healerd.conf and healerd/ under the
// user's XDG_CONFIG_HOME and XDG_STATE_HOME (~/.config, ~/.local/state).
std::filesystem::path default_config_path(bool user);
std::filesystem::path default_state_directory(bool user);
// Where the database is: Path= of [Storage], else healerd.db in the state directory.
std::filesystem::path database_path(const Config& config, const std::filesystem::path& state_directory);

// The drop-in directory of a main file: "/etc/healerd/healerd.conf.d".
std::filesystem::path drop_in_directory(const std::filesystem::path& main_file);

// Where per-unit files live: "/etc/healerd/units.d", holding NAME.conf and
// NAME.conf.d/*.conf for a unit NAME.
std::filesystem::path unit_settings_directory(const std::filesystem::path& main_file);

// Applies one file's settings on top of `config`. Exposed for tests.
void apply_config_file(Config& config, const std::filesystem::path& file);

// Every key healerd.conf accepts, as {section, key}, in documentation order.
std::vector<std::pair<std::string_view, std::string_view>> config_keys();
// Every key a units.d/ file accepts, likewise.
std::vector<std::pair<std::string_view, std::string_view>> unit_config_keys();

// Sets one [Detector] key ("Window", "K", ...) of `detector` from text, by
// exactly healerd.conf's rule, so other front ends accept the same values.
// Returns what is wrong with the value (and leaves `detector` alone), or
// nullopt. Throws std::invalid_argument for a key [Detector] does not have.
std::optional<std::string> set_detector_key(AdaptiveDetectorConfig& detector, std::string_view key,
                                            std::string_view value);

// Value parsers, systemd's syntax; std::nullopt when `text` is malformed.
std::optional<bool> parse_boolean(std::string_view text);  // yes/no, true/false, on/off, 1/0
// "5", "1.5s", "500ms", "2min 30s"; a bare number is seconds.
std::optional<std::chrono::microseconds> parse_timespan(std::string_view text);
// "512M", "4G", "1048576"; K/M/G/T are powers of 1024. "infinity" is nullopt-as-value:
// the outer optional is empty when malformed, the inner one when unlimited.
std::optional<std::optional<std::uint64_t>> parse_size(std::string_view text);
// "200%" or "200": percent of one CPU; "infinity" is unlimited.
std::optional<std::optional<double>> parse_cpu_quota(std::string_view text);
// A systemd unit name: [A-Za-z0-9:_.\\@-], a known type suffix, at most 255 bytes.
bool valid_unit_name(std::string_view name);
// Whether `name` is a template service unit, NAME@.service (OnGiveUp=).
bool is_service_template(std::string_view name);

}  // namespace heal
