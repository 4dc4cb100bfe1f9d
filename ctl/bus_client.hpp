#pragma once
// healerd's D-Bus API (docs/dbus-api.md) as typed calls. Every sd-bus failure
// becomes a CtlError with one sentence and the documented exit status.
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api.hpp"

struct sd_bus;
struct sd_bus_slot;
struct sd_bus_message;
struct sd_event;

namespace healctl {

enum class BusScope { system, user };

class BusClient;

// Keeps a signal match alive; dropping it removes the match.
class Subscription {
public:
    Subscription(Subscription&&) noexcept;
    Subscription& operator=(Subscription&&) = delete;
    Subscription(const Subscription&) = delete;
    ~Subscription();

    struct Handler;  // defined in bus_client.cpp

private:
    friend class BusClient;
    Subscription(sd_bus_slot* slot, std::unique_ptr<Handler> handler);
    sd_bus_slot* slot_;
    std::unique_ptr<Handler> handler_;
};

class BusClient {
public:
    // Connects to the system bus, or the session bus for BusScope::user.
    explicit BusClient(BusScope scope);
    ~BusClient();
    BusClient(const BusClient&) = delete;
    BusClient& operator=(const BusClient&) = delete;

    DaemonState state();
    std::string health();
    // The model's provenance as JSON text (docs/fleet.md); "" without one.
    std::string model_provenance();
    std::vector<MetricPoint> metrics(std::uint32_t limit);
    std::vector<ActionEntry> actions(std::uint32_t limit);
    SummaryStats summary();
    std::vector<IncidentEntry> incidents(std::uint32_t limit);
    // A page of an export: rows after the row id `after` (0: from the first
    // in the filter's order). A page refused for the caller's read budget is
    // asked again once healerd's "retry in N s" has passed.
    std::vector<MetricPoint> list_metrics(const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit);
    std::vector<ActionEntry> list_actions(const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit);
    std::vector<IncidentEntry> list_incidents(const HistoryFilter& filter, std::uint64_t after, std::uint32_t limit);
    DetectResult detect(const DetectOverrides& overrides);
    DecisionView decision(const std::string& unit);
    RecoverResult recover(const std::string& unit, const std::string& action);
    void train(std::uint32_t episodes);
    std::string simulate_failure(const std::string& kind, const std::string& unit);
    // `seconds` 0: until resumed. Both return healerd's sentence.
    std::string pause(const std::string& unit, std::uint64_t seconds);
    std::string resume(const std::string& unit);

    // Signal handlers run while dispatch_or_wait() or an attached event loop
    // dispatches; an exception they throw is kept and re-thrown by
    // rethrow_handler_error() (dispatch_or_wait() does so itself).
    Subscription on_training_progress(std::function<void(const TrainingProgress&)> handler);
    Subscription on_training_finished(std::function<void(const TrainingFinished&)> handler);
    Subscription on_properties_changed(std::function<void()> handler);
    // healerd left the bus (exited or crashed).
    Subscription on_daemon_exit(std::function<void()> handler);

    // Dispatches one queued message, or waits until one arrives.
    void dispatch_or_wait();
    void attach(sd_event* event);
    void rethrow_handler_error();

    BusScope scope() const { return scope_; }

private:
    Subscription subscribe(const char* sender, const char* path, const char* interface,
                           const char* member, const char* description,
                           std::function<void(sd_bus_message*)> handler);

    std::string string_property(const char* name);

    bool told_of_rate_limit_ = false;
    BusScope scope_;
    sd_bus* bus_ = nullptr;
    std::exception_ptr handler_error_;
};

}  // namespace healctl
