#pragma once
// Every target's incident and its row in the incidents table: opens one when
// a target enters failure, feeds it each tick's health and each attempt,
// writes the attempt before it runs, tells the circuit breaker what each
// outcome was, and closes it resolved, given up or interrupted. The lifecycle
// lives here; the daemon drains `take_news()` into the journal. Loop thread only.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detection/monitor.hpp"
#include "recovery/circuit_breaker.hpp"
#include "recovery/incident.hpp"
#include "storage/store.hpp"

namespace heal {

// Something an operator should read about an incident.
struct IncidentNews {
    enum class Kind { opened, relapsed, resolved, given_up, store_failed };
    Kind kind = Kind::opened;
    std::string unit;  // "" for the machine
    std::string message;
    FailureKind failure_kind = FailureKind::transient;
    std::size_t attempts = 0;
    std::uint32_t relapses = 0;
    std::int64_t incident_id = 0;         // 0 when not stored
    std::optional<double> recovery_time;  // resolved: seconds from failure to durable health
};

class IncidentBook {
public:
    using OptionsFor = std::function<IncidentOptions(const std::string& target)>;

    IncidentBook(Store& store, CircuitBreaker& breaker) : store_(store), breaker_(breaker) {}

    // One tick: feeds each incident its target's health (an attempt running
    // on a target in `busy` keeps its incident even when the target is no
    // longer watched), closes the resolved ones, and opens one for each
    // target newly in failure.
    void track(const std::vector<TargetStatus>& targets, const std::function<bool(const std::string&)>& busy,
               const OptionsFor& options_for, SteadyTime now);
    // Opens an incident on `target` now (the operator's recover after a give-up).
    void open(const TargetStatus& status, IncidentOptions options, SteadyTime now);

    // The target's incident while it is open (not resolved, not given up).
    const Incident* active(const std::string& target) const;
    // Its incident, open or given up while the target is still failed.
    const Incident* find(const std::string& target) const;
    // The targets whose incident may start its next attempt now.
    std::vector<std::string> due(SteadyTime now) const;

    // Stores the attempt as running, linked to the target's open incident,
    // before it runs; returns its row id (0 when storing failed: it still runs).
    std::int64_t begin_attempt(ActionRecord& record, SteadyTime now);
    // The attempt's judgement; a failure counts in the breaker.
    void finish_attempt(const std::string& target, AttemptResult result, SteadyTime now,
                        std::optional<SteadyTime> healed_at = {});
    // A dry run's incident ends as such: it never acted, so it did not fail.
    void give_up(const std::string& target, const std::string& reason, bool dry_run);
    // At shutdown: every open incident is stored as interrupted.
    void interrupt_all(const std::string& why);

    std::vector<IncidentNews> take_news();

private:
    struct Tracked {
        Incident incident;
        IncidentRecord record;
    };

    Tracked* open_tracked(const std::string& target);
    void relapsed(Tracked& tracked, SteadyTime now);
    void resolved(Tracked& tracked, SteadyTime now);
    // Writes the incident's row as it stands; `outcome` closes it.
    void store(Tracked& tracked, std::optional<IncidentOutcome> outcome = {});
    void report(IncidentNews::Kind kind, const Tracked& tracked, std::string message);
    void report_store_error(const std::string& target, std::string_view what, const std::exception& error);

    Store& store_;
    CircuitBreaker& breaker_;
    std::map<std::string, Tracked> incidents_;  // per target
    std::vector<IncidentNews> news_;
};

std::string_view to_string(Incident::State state);

}  // namespace heal
