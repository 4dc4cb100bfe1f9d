#include "bus_client.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "error.hpp"

namespace healctl {

namespace {

constexpr const char* kService = "org.healerd.Healer1";
constexpr const char* kPath = "/org/healerd/Healer1";
constexpr const char* kInterface = "org.healerd.Healer1";
constexpr const char* kErrorPrefix = "org.healerd.Healer1.Error.";

// Recover replies only after validating the recovery (RecoveryTimeout plus the
// action's own time), far beyond sd-bus's 25 s default.
constexpr std::uint64_t kRecoverTimeoutUs = 120ULL * 1000 * 1000;
constexpr std::uint64_t kDefaultTimeoutUs = 0;  // sd-bus default (25 s)

struct MessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

struct ScopedError {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    ScopedError() = default;
    ScopedError(const ScopedError&) = delete;
    ~ScopedError() { sd_bus_error_free(&error); }
};

std::string_view bus_name(BusScope scope) { return scope == BusScope::user ? "session" : "system"; }

std::string start_hint(BusScope scope) {
    return scope == BusScope::user ? "start it with `healerd --user`"
                                   : "start it with `systemctl start healerd`";
}

std::string connect_hint(BusScope scope) {
    return scope == BusScope::user ? "set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR"
                                   : "check that dbus is running";
}

bool is_connection_errno(int error) {
    switch (error) {
        case ENOENT: case ECONNREFUSED: case ECONNRESET: case ENOTCONN: case EPIPE:
        case ESHUTDOWN: case ENOMEDIUM:
            return true;
        default:
            return false;
    }
}

// A failure of the connection itself rather than of one call.
[[noreturn]] void fail_bus(BusScope scope, std::string_view activity, int r) {
    if (is_connection_errno(-r))
        throw CtlError(Exit::unreachable, fmt::format("cannot talk to the {} bus: {}.", bus_name(scope),
                                                      std::strerror(-r)));
    throw CtlError(Exit::failed, fmt::format("{} failed: {}.", activity, std::strerror(-r)));
}

// Maps a failed call of `method` to the documented exit status and a sentence.
[[noreturn]] void fail_call(BusScope scope, std::string_view method, int r, const sd_bus_error& error) {
    const std::string_view name = error.name ? error.name : "";
    const std::string message = error.message && *error.message ? error.message : std::strerror(-r);
    if (name == SD_BUS_ERROR_SERVICE_UNKNOWN || name == SD_BUS_ERROR_NAME_HAS_NO_OWNER)
        throw CtlError(Exit::unreachable, fmt::format("healerd is not running on the {} bus; {}.",
                                                      bus_name(scope), start_hint(scope)));
    // The bus policy and healerd's own check both answer AccessDenied.
    if (name == SD_BUS_ERROR_ACCESS_DENIED)
        throw CtlError(Exit::failed,
                       fmt::format("healerd refused {}: permission denied by its D-Bus policy; run healctl as "
                                   "root or as a member of the healerd group.", method));
    if (name == SD_BUS_ERROR_NO_REPLY || name == SD_BUS_ERROR_TIMEOUT || r == -ETIMEDOUT)
        throw CtlError(Exit::failed, fmt::format("healerd did not answer {} in time.", method));
    if (name == SD_BUS_ERROR_UNKNOWN_METHOD || name == SD_BUS_ERROR_UNKNOWN_OBJECT ||
        name == SD_BUS_ERROR_UNKNOWN_INTERFACE || name == SD_BUS_ERROR_UNKNOWN_PROPERTY)
        throw CtlError(Exit::failed, fmt::format("healerd does not provide {} ({}); healctl and "
                                                 "healerd are different versions.", method, message));
    if (name.starts_with(kErrorPrefix)) {
        const std::string_view kind = name.substr(std::strlen(kErrorPrefix));
        // The caller's arguments were wrong: a usage error, nothing was done.
        const bool bad_argument = kind == "InvalidArgument" || kind == "UnknownUnit";
        throw CtlError(bad_argument ? Exit::usage : Exit::failed,
                       fmt::format("healerd refused {}: {}", method, as_sentence(message)));
    }
    if (is_connection_errno(-r)) fail_bus(scope, fmt::format("calling healerd's {}", method), r);
    throw CtlError(Exit::failed, fmt::format("calling healerd's {} failed: {}", method, as_sentence(message)));
}

// A reply that does not have the documented signature.
void check_read(int r, std::string_view what) {
    if (r < 0)
        throw CtlError(Exit::failed, fmt::format("healerd's reply to {} is malformed ({}); healctl "
                                                 "and healerd are different versions.",
                                                 what, std::strerror(-r)));
}

void check_build(int r) {
    if (r < 0)
        throw CtlError(Exit::failed, fmt::format("cannot build a D-Bus message: {}.", std::strerror(-r)));
}

std::string copy(const char* s) { return s ? s : ""; }

std::optional<double> recovery_time(double seconds) {
    return seconds < 0 ? std::nullopt : std::optional<double>(seconds);
}

// Reads one `a{sv}` entry value of a known type; `what` names the call in errors.
template <typename T>
void read_variant(sd_bus_message* m, const char* signature, T* out, std::string_view what = "GetAll") {
    check_read(sd_bus_message_enter_container(m, 'v', signature), what);
    check_read(sd_bus_message_read_basic(m, signature[0], out), what);
    check_read(sd_bus_message_exit_container(m), what);
}

void read_variant_string(sd_bus_message* m, std::string& out) {
    const char* value = nullptr;
    read_variant(m, "s", &value);
    out = copy(value);
}

void read_variant_bool(sd_bus_message* m, bool& out) {
    int value = 0;
    read_variant(m, "b", &value);
    out = value != 0;
}

// A property whose variant holds an array of structs `element` ("(ss)"):
// `read_one` reads one struct with sd_bus_message_read, keeps it and returns
// what that returned (0 past the last one).
template <typename ReadOne>
void read_variant_structs(sd_bus_message* m, const std::string& element, ReadOne read_one) {
    check_read(sd_bus_message_enter_container(m, 'v', ("a" + element).c_str()), "GetAll");
    check_read(sd_bus_message_enter_container(m, 'a', element.c_str()), "GetAll");
    int r = 0;
    while ((r = read_one(element.c_str())) > 0) {
    }
    check_read(r, "GetAll");
    check_read(sd_bus_message_exit_container(m), "GetAll");
    check_read(sd_bus_message_exit_container(m), "GetAll");
}

void read_variant_unit_states(sd_bus_message* m, std::vector<std::pair<std::string, std::string>>& out) {
    out.clear();
    read_variant_structs(m, "(ss)", [&](const char* type) {
        const char* unit = nullptr;
        const char* state = nullptr;
        const int r = sd_bus_message_read(m, type, &unit, &state);
        if (r > 0) out.emplace_back(unit, state);
        return r;
    });
}

void read_variant_pauses(sd_bus_message* m, std::vector<PauseEntry>& out) {
    out.clear();
    read_variant_structs(m, "(stu)", [&](const char* type) {
        const char* unit = nullptr;
        std::uint64_t until = 0;
        std::uint32_t uid = 0;
        const int r = sd_bus_message_read(m, type, &unit, &until, &uid);
        if (r > 0) out.push_back({unit, static_cast<Microseconds>(until), uid});
        return r;
    });
}

void read_variant_raised_limits(sd_bus_message* m, std::vector<RaisedLimitEntry>& out) {
    out.clear();
    read_variant_structs(m, "(sstttt)", [&](const char* type) {
        const char* unit = nullptr;
        const char* property = nullptr;
        RaisedLimitEntry entry;
        std::uint64_t raised_at = 0;
        const int r = sd_bus_message_read(m, type, &unit, &property, &entry.configured, &entry.raised, &raised_at,
                                          &entry.expires);
        if (r > 0) {
            entry.unit = unit;
            entry.property = property;
            entry.raised_at = static_cast<Microseconds>(raised_at);
            out.push_back(entry);
        }
        return r;
    });
}

void read_variant_unit_limits(sd_bus_message* m, std::vector<UnitLimitsEntry>& out) {
    out.clear();
    read_variant_structs(m, "(sttt)", [&](const char* type) {
        const char* unit = nullptr;
        UnitLimitsEntry entry;
        const int r = sd_bus_message_read(m, type, &unit, &entry.memory_max, &entry.memory_high,
                                          &entry.cpu_quota_per_sec_usec);
        if (r > 0) {
            entry.unit = unit;
            out.push_back(entry);
        }
        return r;
    });
}

void read_variant_strv(sd_bus_message* m, std::vector<std::string>& out) {
    check_read(sd_bus_message_enter_container(m, 'v', "as"), "GetAll");
    char** list = nullptr;
    check_read(sd_bus_message_read_strv(m, &list), "GetAll");
    out.clear();
    for (char** item = list; item && *item; ++item) {
        out.emplace_back(*item);
        std::free(*item);
    }
    std::free(list);
    check_read(sd_bus_message_exit_container(m), "GetAll");
}

}  // namespace

struct Subscription::Handler {
    std::function<void(sd_bus_message*)> handle;
    std::exception_ptr* error_sink;
};

namespace {

int dispatch_signal(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* handler = static_cast<Subscription::Handler*>(userdata);
    try {
        handler->handle(m);
    } catch (...) {
        if (!*handler->error_sink) *handler->error_sink = std::current_exception();
    }
    return 0;
}

}  // namespace

Subscription::Subscription(sd_bus_slot* slot, std::unique_ptr<Handler> handler)
    : slot_(slot), handler_(std::move(handler)) {}

Subscription::Subscription(Subscription&& other) noexcept
    : slot_(std::exchange(other.slot_, nullptr)), handler_(std::move(other.handler_)) {}

Subscription::~Subscription() { sd_bus_slot_unref(slot_); }

BusClient::BusClient(BusScope scope) : scope_(scope) {
    const int r = scope == BusScope::user ? sd_bus_open_user(&bus_) : sd_bus_open_system(&bus_);
    if (r < 0)
        throw CtlError(Exit::unreachable, fmt::format("cannot connect to the {} bus ({}); {}.", bus_name(scope),
                                                      std::strerror(-r), connect_hint(scope)));
}

BusClient::~BusClient() { sd_bus_flush_close_unref(bus_); }

namespace {

Message new_call(sd_bus* bus, const char* interface, const char* method) {
    sd_bus_message* m = nullptr;
    check_build(sd_bus_message_new_method_call(bus, &m, kService, kPath, interface, method));
    return Message(m);
}

Message send(sd_bus* bus, BusScope scope, std::string_view method, const Message& call,
             std::uint64_t timeout_us = kDefaultTimeoutUs) {
    ScopedError error;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call(bus, call.get(), timeout_us, &error.error, &reply);
    if (r < 0) fail_call(scope, method, r, error.error);
    return Message(reply);
}

template <typename... Args>
Message call(sd_bus* bus, BusScope scope, const char* method, const char* types, Args... args) {
    Message m = new_call(bus, kInterface, method);
    if (types) check_build(sd_bus_message_append(m.get(), types, args...));
    return send(bus, scope, method, m);
}

}  // namespace

DaemonState BusClient::state() {
    Message m = new_call(bus_, "org.freedesktop.DBus.Properties", "GetAll");
    check_build(sd_bus_message_append(m.get(), "s", kInterface));
    Message reply = send(bus_, scope_, "GetAll", m);
    sd_bus_message* r = reply.get();

    DaemonState state;
    check_read(sd_bus_message_enter_container(r, 'a', "{sv}"), "GetAll");
    while (true) {
        const int entered = sd_bus_message_enter_container(r, 'e', "sv");
        check_read(entered, "GetAll");
        if (entered == 0) break;
        const char* key = nullptr;
        check_read(sd_bus_message_read_basic(r, 's', &key), "GetAll");
        const std::string_view name = key;
        if (name == "Health") read_variant_string(r, state.health);
        else if (name == "Cpu") read_variant(r, "d", &state.cpu);
        else if (name == "Memory") read_variant(r, "d", &state.memory);
        else if (name == "FailureCount") read_variant(r, "u", &state.failure_count);
        else if (name == "Policy") read_variant_string(r, state.policy);
        else if (name == "ModelLoaded") read_variant_bool(r, state.model_loaded);
        else if (name == "TrainingState") read_variant_string(r, state.training_state);
        else if (name == "Backend") read_variant_string(r, state.backend);
        else if (name == "AutoRecover") read_variant_bool(r, state.auto_recover);
        else if (name == "WatchedUnits") read_variant_strv(r, state.watched_units);
        else if (name == "UnitStates") read_variant_unit_states(r, state.unit_states);
        else if (name == "Paused") read_variant_pauses(r, state.paused);
        else if (name == "RaisedLimits") read_variant_raised_limits(r, state.raised_limits);
        else if (name == "UnitLimits") read_variant_unit_limits(r, state.unit_limits);
        else if (name == "Version") read_variant_string(r, state.version);
        else check_read(sd_bus_message_skip(r, "v"), "GetAll");  // a newer daemon's property
        check_read(sd_bus_message_exit_container(r), "GetAll");
    }
    check_read(sd_bus_message_exit_container(r), "GetAll");
    return state;
}

std::string BusClient::string_property(const char* name) {
    Message m = new_call(bus_, "org.freedesktop.DBus.Properties", "Get");
    check_build(sd_bus_message_append(m.get(), "ss", kInterface, name));
    Message reply = send(bus_, scope_, "Get", m);
    std::string value;
    read_variant_string(reply.get(), value);
    return value;
}

std::string BusClient::health() { return string_property("Health"); }

std::string BusClient::model_provenance() { return string_property("ModelProvenance"); }

namespace {

// Reads an array of rows of `fields`, each prefixed by its row id when
// with_id; `read_fields` reads one row's fields into an Entry.
template <typename Entry, typename ReadFields>
std::vector<Entry> read_rows(sd_bus_message* r, std::string_view fields, bool with_id, std::string_view method,
                             ReadFields read_fields) {
    const std::string row = with_id ? fmt::format("t{}", fields) : std::string(fields);
    std::vector<Entry> entries;
    check_read(sd_bus_message_enter_container(r, 'a', fmt::format("({})", row).c_str()), method);
    for (;;) {
        const int entered = sd_bus_message_enter_container(r, 'r', row.c_str());
        check_read(entered, method);
        if (entered == 0) break;
        Entry entry;
        if (with_id) check_read(sd_bus_message_read_basic(r, 't', &entry.id), method);
        check_read(read_fields(r, entry), method);
        check_read(sd_bus_message_exit_container(r), method);
        entries.push_back(std::move(entry));
    }
    check_read(sd_bus_message_exit_container(r), method);
    return entries;
}

constexpr std::string_view kMetricFields = "tddss";
int read_metric(sd_bus_message* r, MetricPoint& p) {
    const char *status = nullptr, *unit = nullptr;
    const int read = sd_bus_message_read(r, kMetricFields.data(), &p.timestamp, &p.cpu, &p.memory, &status, &unit);
    p.status = copy(status);
    p.unit = copy(unit);
    return read;
}

constexpr std::string_view kActionFields = "tssddss";
int read_action(sd_bus_message* r, ActionEntry& e) {
    const char *action = nullptr, *result = nullptr, *unit = nullptr, *kind = nullptr;
    double seconds = -1;
    const int read = sd_bus_message_read(r, kActionFields.data(), &e.timestamp, &action, &result, &e.reward, &seconds,
                                         &unit, &kind);
    e.action = copy(action);
    e.result = copy(result);
    e.recovery_time = recovery_time(seconds);
    e.unit = copy(unit);
    e.failure_kind = copy(kind);
    return read;
}

// An incident's fields begin with its id.
constexpr std::string_view kIncidentFields = "tssstttuus";
int read_incident(sd_bus_message* r, IncidentEntry& e) {
    const auto reached = [](Microseconds usec) { return usec == 0 ? std::nullopt : std::optional(usec); };
    const char *unit = nullptr, *kind = nullptr, *outcome = nullptr, *detail = nullptr;
    Microseconds closed = 0, healthy_since = 0;
    const int read = sd_bus_message_read(r, kIncidentFields.data(), &e.id, &unit, &kind, &outcome, &e.opened,
                                         &closed, &healthy_since, &e.attempts, &e.relapses, &detail);
    e.unit = copy(unit);
    e.failure_kind = copy(kind);
    e.outcome = copy(outcome);
    e.closed = reached(closed);
    e.healthy_since = reached(healthy_since);
    e.detail = copy(detail);
    return read;
}

void append_filter(sd_bus_message* m, const HistoryFilter& filter) {
    check_build(sd_bus_message_open_container(m, 'a', "{sv}"));
    if (filter.since) check_build(sd_bus_message_append(m, "{sv}", "since", "t", *filter.since));
    if (filter.until) check_build(sd_bus_message_append(m, "{sv}", "until", "t", *filter.until));
    if (filter.unit) check_build(sd_bus_message_append(m, "{sv}", "unit", "s", filter.unit->c_str()));
    if (filter.newest_first) check_build(sd_bus_message_append(m, "{sv}", "newest_first", "b", 1));
    check_build(sd_bus_message_close_container(m));
}

// "... retry in N s": the seconds healerd asks a rate-limited caller to wait.
std::optional<unsigned> retry_after(const sd_bus_error& error) {
    if (!error.name || std::string_view(error.name) != fmt::format("{}RateLimited", kErrorPrefix) || !error.message)
        return std::nullopt;
    unsigned seconds = 0;
    if (std::sscanf(error.message, "%*[^;]; retry in %u s", &seconds) != 1) return std::nullopt;
    return seconds;
}

// `told`: whether the wait was announced already (once a run).
Message list_page(sd_bus* bus, BusScope scope, const char* method, const HistoryFilter& filter, std::uint64_t after,
                  std::uint32_t limit, bool& told) {
    for (;;) {
        Message m = new_call(bus, kInterface, method);
        append_filter(m.get(), filter);
        check_build(sd_bus_message_append(m.get(), "tu", after, limit));
        ScopedError error;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call(bus, m.get(), kDefaultTimeoutUs, &error.error, &reply);
        if (r >= 0) return Message(reply);
        const auto wait = retry_after(error.error);
        if (!wait) fail_call(scope, method, r, error.error);
        if (!std::exchange(told, true))
            fmt::print(stderr, "healctl: healerd limits how fast other users read its history; waiting.\n");
        std::this_thread::sleep_for(std::chrono::seconds(std::max(1u, *wait)));
    }
}

}  // namespace

std::vector<MetricPoint> BusClient::metrics(std::uint32_t limit) {
    Message reply = call(bus_, scope_, "GetMetrics", "u", limit);
    return read_rows<MetricPoint>(reply.get(), kMetricFields, false, "GetMetrics", read_metric);
}

std::vector<ActionEntry> BusClient::actions(std::uint32_t limit) {
    Message reply = call(bus_, scope_, "GetActions", "u", limit);
    return read_rows<ActionEntry>(reply.get(), kActionFields, false, "GetActions", read_action);
}

std::vector<MetricPoint> BusClient::list_metrics(const HistoryFilter& filter, std::uint64_t after,
                                                 std::uint32_t limit) {
    Message reply = list_page(bus_, scope_, "ListMetrics", filter, after, limit, told_of_rate_limit_);
    return read_rows<MetricPoint>(reply.get(), kMetricFields, true, "ListMetrics", read_metric);
}

std::vector<ActionEntry> BusClient::list_actions(const HistoryFilter& filter, std::uint64_t after,
                                                 std::uint32_t limit) {
    Message reply = list_page(bus_, scope_, "ListActions", filter, after, limit, told_of_rate_limit_);
    return read_rows<ActionEntry>(reply.get(), fmt::format("{}t", kActionFields), true, "ListActions",
                                  [](sd_bus_message* r, ActionEntry& e) {
                                      const int read = read_action(r, e);
                                      std::uint64_t incident = 0;
                                      if (read > 0 && sd_bus_message_read_basic(r, 't', &incident) < 0) return -EBADMSG;
                                      if (incident != 0) e.incident_id = incident;
                                      return read;
                                  });
}

std::vector<IncidentEntry> BusClient::list_incidents(const HistoryFilter& filter, std::uint64_t after,
                                                     std::uint32_t limit) {
    Message reply = list_page(bus_, scope_, "ListIncidents", filter, after, limit, told_of_rate_limit_);
    return read_rows<IncidentEntry>(reply.get(), kIncidentFields, false, "ListIncidents", read_incident);
}

SummaryStats BusClient::summary() {
    Message reply = call(bus_, scope_, "GetSummary", nullptr);
    sd_bus_message* r = reply.get();
    SummaryStats s;
    double avg_mttr = -1;
    check_read(sd_bus_message_read(r, "(tttdd)", &s.total_actions, &s.successes, &s.failures, &s.success_rate,
                                   &avg_mttr),
               "GetSummary");
    s.avg_mttr = recovery_time(avg_mttr);
    const int entered = sd_bus_message_enter_container(r, 'a', "{sv}");
    check_read(entered == 0 ? -EBADMSG : entered, "GetSummary");  // 0: a healerd without incidents
    while (true) {
        const int entry = sd_bus_message_enter_container(r, 'e', "sv");
        check_read(entry, "GetSummary");
        if (entry == 0) break;
        const char* key = nullptr;
        check_read(sd_bus_message_read_basic(r, 's', &key), "GetSummary");
        const std::string_view name = key;
        const auto read_mean = [r](std::optional<double>& out) {
            double value = 0;
            read_variant(r, "d", &value, "GetSummary");
            out = value;
        };
        if (name == "incidents") read_variant(r, "t", &s.incidents, "GetSummary");
        else if (name == "resolved") read_variant(r, "t", &s.resolved, "GetSummary");
        else if (name == "given_up") read_variant(r, "t", &s.given_up, "GetSummary");
        else if (name == "relapses") read_variant(r, "t", &s.relapses, "GetSummary");
        else if (name == "self_resolved") read_variant(r, "t", &s.self_resolved, "GetSummary");
        else if (name == "attempts_per_incident") read_mean(s.attempts_per_incident);
        else if (name == "mttr") read_mean(s.mttr);
        else check_read(sd_bus_message_skip(r, "v"), "GetSummary");  // a newer daemon's figure
        check_read(sd_bus_message_exit_container(r), "GetSummary");
    }
    check_read(sd_bus_message_exit_container(r), "GetSummary");
    return s;
}

std::vector<IncidentEntry> BusClient::incidents(std::uint32_t limit) {
    Message reply = call(bus_, scope_, "GetIncidents", "u", limit);
    return read_rows<IncidentEntry>(reply.get(), kIncidentFields, false, "GetIncidents", read_incident);
}

DetectResult BusClient::detect(const DetectOverrides& overrides) {
    Message m = new_call(bus_, kInterface, "Detect");
    check_build(sd_bus_message_open_container(m.get(), 'a', "{sv}"));
    if (overrides.cpu) check_build(sd_bus_message_append(m.get(), "{sv}", "cpu", "d", *overrides.cpu));
    if (overrides.memory)
        check_build(sd_bus_message_append(m.get(), "{sv}", "memory", "d", *overrides.memory));
    check_build(sd_bus_message_close_container(m.get()));
    Message reply = send(bus_, scope_, "Detect", m);
    sd_bus_message* r = reply.get();

    DetectResult result;
    int detected = 0;
    const char* status = nullptr;
    check_read(sd_bus_message_read(r, "bs", &detected, &status), "Detect");
    result.detected = detected != 0;
    result.status = copy(status);
    check_read(sd_bus_message_enter_container(r, 'a', "(sddbs)"), "Detect");
    while (true) {
        DetectVerdict v;
        const char *metric = nullptr, *reason = nullptr;
        int anomalous = 0;
        const int read = sd_bus_message_read(r, "(sddbs)", &metric, &v.value, &v.threshold, &anomalous, &reason);
        check_read(read, "Detect");
        if (read == 0) break;
        v.metric = copy(metric);
        v.anomalous = anomalous != 0;
        v.reason = copy(reason);
        result.verdicts.push_back(std::move(v));
    }
    check_read(sd_bus_message_exit_container(r), "Detect");
    return result;
}

DecisionView BusClient::decision(const std::string& unit) {
    Message reply = call(bus_, scope_, "GetDecision", "s", unit.c_str());
    sd_bus_message* r = reply.get();
    DecisionView view;
    const char *policy = nullptr, *target = nullptr, *action = nullptr, *why_none = nullptr, *incident = nullptr;
    double next_attempt_in = -1;
    check_read(sd_bus_message_read(r, "sssssuud", &policy, &target, &action, &why_none, &incident, &view.attempts,
                                   &view.relapses, &next_attempt_in),
               "GetDecision");
    view.policy = copy(policy);
    view.target = copy(target);
    view.action = copy(action);
    view.why_none = copy(why_none);
    view.incident = copy(incident);
    if (next_attempt_in >= 0) view.next_attempt_in = next_attempt_in;
    check_read(sd_bus_message_enter_container(r, 'a', "(sdbs)"), "GetDecision");
    while (true) {
        DecisionView::Choice choice;
        const char *name = nullptr, *excluded = nullptr;
        int candidate = 0;
        const int read = sd_bus_message_read(r, "(sdbs)", &name, &choice.probability, &candidate, &excluded);
        check_read(read, "GetDecision");
        if (read == 0) break;
        choice.action = copy(name);
        choice.candidate = candidate != 0;
        choice.excluded = copy(excluded);
        view.actions.push_back(std::move(choice));
    }
    check_read(sd_bus_message_exit_container(r), "GetDecision");
    const char* shadow = nullptr;
    check_read(sd_bus_message_read(r, "s", &shadow), "GetDecision");
    view.shadow = copy(shadow);
    return view;
}

RecoverResult BusClient::recover(const std::string& unit, const std::string& action) {
    Message m = new_call(bus_, kInterface, "Recover");
    check_build(sd_bus_message_append(m.get(), "ss", unit.c_str(), action.c_str()));
    Message reply = send(bus_, scope_, "Recover", m, kRecoverTimeoutUs);
    RecoverResult result;
    const char *chosen = nullptr, *outcome = nullptr, *target = nullptr, *detail = nullptr;
    double seconds = -1;
    check_read(sd_bus_message_read(reply.get(), "ssddss", &chosen, &outcome, &result.reward, &seconds,
                                   &target, &detail),
               "Recover");
    result.action = copy(chosen);
    result.result = copy(outcome);
    result.recovery_time = recovery_time(seconds);
    result.unit = copy(target);
    result.detail = copy(detail);
    return result;
}

void BusClient::train(std::uint32_t episodes) { call(bus_, scope_, "Train", "u", episodes); }

std::string BusClient::pause(const std::string& unit, std::uint64_t seconds) {
    Message reply = call(bus_, scope_, "Pause", "st", unit.c_str(), seconds);
    const char* description = nullptr;
    check_read(sd_bus_message_read(reply.get(), "s", &description), "Pause");
    return copy(description);
}

std::string BusClient::resume(const std::string& unit) {
    Message reply = call(bus_, scope_, "Resume", "s", unit.c_str());
    const char* description = nullptr;
    check_read(sd_bus_message_read(reply.get(), "s", &description), "Resume");
    return copy(description);
}

std::string BusClient::simulate_failure(const std::string& kind, const std::string& unit) {
    Message reply = call(bus_, scope_, "SimulateFailure", "ss", kind.c_str(), unit.c_str());
    const char* description = nullptr;
    check_read(sd_bus_message_read(reply.get(), "s", &description), "SimulateFailure");
    return copy(description);
}

Subscription BusClient::subscribe(const char* sender, const char* path, const char* interface,
                                  const char* member, const char* description,
                                  std::function<void(sd_bus_message*)> handler) {
    auto owned = std::make_unique<Subscription::Handler>(
        Subscription::Handler{std::move(handler), &handler_error_});
    sd_bus_slot* slot = nullptr;
    // Synchronous AddMatch: the match is in place before the caller's next
    // request, so no signal the request causes can be missed.
    const int r = sd_bus_match_signal(bus_, &slot, sender, path, interface, member, dispatch_signal,
                                      owned.get());
    if (r < 0) fail_bus(scope_, description, r);
    return Subscription(slot, std::move(owned));
}

Subscription BusClient::on_training_progress(std::function<void(const TrainingProgress&)> handler) {
    return subscribe(kService, kPath, kInterface, "TrainingProgress", "subscribing to TrainingProgress",
                     [handler = std::move(handler)](sd_bus_message* m) {
                         TrainingProgress p;
                         check_read(sd_bus_message_read(m, "uud", &p.episode, &p.episodes, &p.mean_reward),
                                    "TrainingProgress");
                         handler(p);
                     });
}

Subscription BusClient::on_training_finished(std::function<void(const TrainingFinished&)> handler) {
    return subscribe(kService, kPath, kInterface, "TrainingFinished", "subscribing to TrainingFinished",
                     [handler = std::move(handler)](sd_bus_message* m) {
                         TrainingFinished f;
                         int success = 0;
                         const char* message = nullptr;
                         check_read(sd_bus_message_read(m, "buds", &success, &f.episodes, &f.mean_reward,
                                                        &message),
                                    "TrainingFinished");
                         f.success = success != 0;
                         f.message = copy(message);
                         handler(f);
                     });
}

Subscription BusClient::on_properties_changed(std::function<void()> handler) {
    return subscribe(kService, kPath, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                     "subscribing to PropertiesChanged",
                     [handler = std::move(handler)](sd_bus_message*) { handler(); });
}

Subscription BusClient::on_daemon_exit(std::function<void()> handler) {
    return subscribe("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                     "NameOwnerChanged", "subscribing to NameOwnerChanged",
                     [handler = std::move(handler)](sd_bus_message* m) {
                         const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
                         check_read(sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner),
                                    "NameOwnerChanged");
                         if (std::string_view(name) == kService && *new_owner == '\0') handler();
                     });
}

void BusClient::dispatch_or_wait() {
    int r = sd_bus_process(bus_, nullptr);
    if (r < 0) fail_bus(scope_, "reading from the bus", r);
    rethrow_handler_error();
    if (r > 0) return;
    r = sd_bus_wait(bus_, UINT64_MAX);
    if (r < 0) fail_bus(scope_, "waiting on the bus", r);
}

void BusClient::attach(sd_event* event) {
    const int r = sd_bus_attach_event(bus_, event, SD_EVENT_PRIORITY_NORMAL);
    if (r < 0)
        throw CtlError(Exit::failed, fmt::format("cannot attach the bus to an event loop: {}.",
                                                 std::strerror(-r)));
}

void BusClient::rethrow_handler_error() {
    if (handler_error_) std::rethrow_exception(std::exchange(handler_error_, nullptr));
}

}  // namespace healctl
