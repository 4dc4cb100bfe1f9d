#include "bus.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "log.hpp"

#ifndef HEALERD_VERSION
#error "HEALERD_VERSION must be defined by the build"
#endif

namespace healerd {
namespace {

// The result callers see: the outcome of a finished attempt (a heal undone
// within StableSec is "relapsed"), else where it stands (running,
// interrupted, dry_run). Null-terminated: the names are literals.
std::string_view result_name(const heal::ActionRecord& record) {
    if (record.phase != heal::AttemptPhase::done) return heal::to_string(record.phase);
    if (record.relapsed) return "relapsed";
    return record.recovered ? "recovered" : "failed";
}

BusObject& self_of(void* userdata) { return *static_cast<BusObject*>(userdata); }

const char* error_name(RequestError::Code code) {
    switch (code) {
        case RequestError::Code::InvalidArgument: return "org.healerd.Healer1.Error.InvalidArgument";
        case RequestError::Code::UnknownUnit: return "org.healerd.Healer1.Error.UnknownUnit";
        case RequestError::Code::NotAllowed: return "org.healerd.Healer1.Error.NotAllowed";
        case RequestError::Code::Busy: return "org.healerd.Healer1.Error.Busy";
        case RequestError::Code::Failed: return "org.healerd.Healer1.Error.Failed";
        case RequestError::Code::Healthy: return "org.healerd.Healer1.Error.Healthy";
        case RequestError::Code::AccessDenied: return SD_BUS_ERROR_ACCESS_DENIED;  // what the bus policy says too
        case RequestError::Code::RateLimited: return "org.healerd.Healer1.Error.RateLimited";
        case RequestError::Code::FaultInjectionNotAllowed: return "org.healerd.Healer1.Error.FaultInjectionNotAllowed";
    }
    return "org.healerd.Healer1.Error.Failed";
}

int set_error(sd_bus_error* error, const RequestError& e) { return sd_bus_error_set(error, error_name(e.code()), e.what()); }

// Runs a handler body, turning a refused request or a broken message into
// the matching D-Bus error.
template <typename Body>
int guarded(sd_bus_error* error, Body&& body) {
    try {
        return body();
    } catch (const RequestError& e) {
        return set_error(error, e);
    } catch (const std::exception& e) {
        return sd_bus_error_set(error, error_name(RequestError::Code::Failed), e.what());
    }
}

// sd-bus calls return negative errno; inside a handler, stop at the first.
void check(int r, const char* what) {
    if (r < 0) throw std::system_error(-r, std::generic_category(), what);
}

std::uint64_t usec_since_epoch(heal::TimePoint time) {
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    return usec < 0 ? 0 : static_cast<std::uint64_t>(usec);
}

// Who sent `call`, as dbus-daemon knows it from the socket
// (GetConnectionCredentials: the effective uid, and the primary and
// supplementary gids), never read from /proc, where a pid may have been
// reused. sd-bus's own sender creds do not carry dbus-daemon's UnixGroupIDs.
// A caller that cannot be identified is refused.
heal::Caller caller_of(sd_bus_message* call) {
    const auto refuse = [](const std::string& why) {
        return RequestError(RequestError::Code::AccessDenied, fmt::format("cannot identify the caller: {}", why));
    };
    const char* sender = sd_bus_message_get_sender(call);
    if (!sender) throw refuse("the call names no sender");
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_call_method(sd_bus_message_get_bus(call), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionCredentials", &error, &raw, "s", sender);
    std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> reply(raw, sd_bus_message_unref);
    if (r < 0) {
        const std::string why = error.message ? error.message : std::generic_category().message(-r);
        sd_bus_error_free(&error);
        throw refuse(why);
    }
    heal::Caller caller;
    bool has_uid = false;
    check(sd_bus_message_enter_container(raw, 'a', "{sv}"), "open credentials");
    for (;;) {
        const int entered = sd_bus_message_enter_container(raw, 'e', "sv");
        check(entered, "open credential");
        if (entered == 0) break;
        const char* key = nullptr;
        check(sd_bus_message_read(raw, "s", &key), "read credential name");
        const std::string_view name(key);
        if (name == "UnixUserID") {
            std::uint32_t uid = 0;
            check(sd_bus_message_read(raw, "v", "u", &uid), "read UnixUserID");
            caller.uid = uid;
            has_uid = true;
        } else if (name == "UnixGroupIDs") {
            check(sd_bus_message_enter_container(raw, 'v', "au"), "open UnixGroupIDs");
            const void* groups = nullptr;
            std::size_t size = 0;
            check(sd_bus_message_read_array(raw, 'u', &groups, &size), "read UnixGroupIDs");
            const auto* gids = static_cast<const std::uint32_t*>(groups);
            caller.groups.assign(gids, gids + size / sizeof(std::uint32_t));
            check(sd_bus_message_exit_container(raw), "close UnixGroupIDs");
        } else {
            check(sd_bus_message_skip(raw, "v"), "skip credential");
        }
        check(sd_bus_message_exit_container(raw), "close credential");
    }
    check(sd_bus_message_exit_container(raw), "close credentials");
    if (!has_uid) throw refuse("the bus did not say its uid");
    return caller;
}

// A method call kept until its asynchronous reply is sent.
using CallRef = std::shared_ptr<sd_bus_message>;
CallRef keep(sd_bus_message* call) { return CallRef(sd_bus_message_ref(call), sd_bus_message_unref); }

void reply_error(const CallRef& call, const RequestError& e) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_error_set(&error, error_name(e.code()), e.what());
    if (sd_bus_reply_method_error(call.get(), &error) < 0) log_warning("cannot send an error reply: the caller is gone");
    sd_bus_error_free(&error);
}

// ---- properties ---------------------------------------------------------------

int get_health(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", self_of(userdata).service().state().healthy ? "healthy" : "failed");
}
int get_cpu(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "d", self_of(userdata).service().state().cpu);
}
int get_memory(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "d", self_of(userdata).service().state().memory);
}
int get_failure_count(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                      sd_bus_error*) {
    return sd_bus_message_append(reply, "u", self_of(userdata).service().state().failure_count);
}
int get_policy(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", self_of(userdata).service().state().policy.c_str());
}
int get_model_loaded(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                     sd_bus_error*) {
    return sd_bus_message_append(reply, "b", static_cast<int>(self_of(userdata).service().state().model_loaded));
}
int get_model_provenance(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                         sd_bus_error*) {
    return sd_bus_message_append(reply, "s", self_of(userdata).service().state().model_provenance.c_str());
}
int get_training_state(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                       sd_bus_error*) {
    return sd_bus_message_append(reply, "s", self_of(userdata).service().state().training ? "running" : "idle");
}
int get_backend(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", self_of(userdata).service().state().backend.c_str());
}
int get_auto_recover(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                     sd_bus_error*) {
    return sd_bus_message_append(reply, "b", static_cast<int>(self_of(userdata).service().state().auto_recover));
}
int get_watched_units(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                      sd_bus_error*) {
    int r = sd_bus_message_open_container(reply, 'a', "s");
    for (const std::string& unit : self_of(userdata).service().state().units)
        if (r >= 0) r = sd_bus_message_append(reply, "s", unit.c_str());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}
int get_unit_states(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                    sd_bus_error*) {
    int r = sd_bus_message_open_container(reply, 'a', "(ss)");
    for (const LiveState::UnitHealth& unit : self_of(userdata).service().state().unit_states)
        if (r >= 0) r = sd_bus_message_append(reply, "(ss)", unit.unit.c_str(), unit.state.c_str());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}
int get_paused(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
               sd_bus_error*) {
    int r = sd_bus_message_open_container(reply, 'a', "(stu)");
    for (const LiveState::Pause& pause : self_of(userdata).service().state().paused)
        if (r >= 0) r = sd_bus_message_append(reply, "(stu)", pause.unit.c_str(), pause.until_usec, pause.paused_by);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}
int get_unit_limits(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                    sd_bus_error*) {
    int r = sd_bus_message_open_container(reply, 'a', "(sttt)");
    for (const LiveState::UnitLimits& unit : self_of(userdata).service().state().unit_limits)
        if (r >= 0)
            r = sd_bus_message_append(reply, "(sttt)", unit.unit.c_str(), unit.memory_max, unit.memory_high,
                                      unit.cpu_quota_per_sec_usec);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}
int get_raised_limits(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                      sd_bus_error*) {
    int r = sd_bus_message_open_container(reply, 'a', "(sstttt)");
    for (const LiveState::Raise& raise : self_of(userdata).service().state().raised_limits)
        if (r >= 0)
            r = sd_bus_message_append(reply, "(sstttt)", raise.unit.c_str(), raise.property.c_str(), raise.configured,
                                      raise.raised, raise.raised_at_usec, raise.expires_usec);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}
int get_version(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", HEALERD_VERSION);
}

// ---- read-only methods ----------------------------------------------------------

std::uint64_t count(std::int64_t n) { return static_cast<std::uint64_t>(n < 0 ? 0 : n); }

// Replies with one array of rows of `fields`, each prefixed by its row id
// (signature "t") when with_id: the List methods' cursor.
template <typename Record, typename AppendFields>
int reply_rows(sd_bus_message* call, std::string_view fields, bool with_id, const std::vector<Record>& records,
               AppendFields append_fields) {
    const std::string row = with_id ? fmt::format("t{}", fields) : std::string(fields);
    sd_bus_message* reply = nullptr;
    check(sd_bus_message_new_method_return(call, &reply), "new reply");
    std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> owned(reply, sd_bus_message_unref);
    check(sd_bus_message_open_container(reply, 'a', fmt::format("({})", row).c_str()), "open array");
    for (const Record& record : records) {
        check(sd_bus_message_open_container(reply, 'r', row.c_str()), "open row");
        if (with_id) check(sd_bus_message_append(reply, "t", count(record.id)), "append row id");
        append_fields(reply, record);
        check(sd_bus_message_close_container(reply), "close row");
    }
    check(sd_bus_message_close_container(reply), "close array");
    return sd_bus_send(nullptr, reply, nullptr);
}

constexpr std::string_view kMetricFields = "tddss";
void append_metric(sd_bus_message* reply, const heal::MetricRecord& m) {
    check(sd_bus_message_append(reply, kMetricFields.data(), usec_since_epoch(m.timestamp), m.cpu, m.memory,
                                m.healthy ? "Healthy" : "Failed", m.unit.c_str()),
          "append metric");
}

constexpr std::string_view kActionFields = "tssddss";
void append_action(sd_bus_message* reply, const heal::ActionRecord& a) {
    const std::string kind = a.failure_kind ? std::string(heal::to_string(*a.failure_kind)) : "";
    check(sd_bus_message_append(reply, kActionFields.data(), usec_since_epoch(a.timestamp),
                                std::string(heal::to_string(a.action)).c_str(), result_name(a).data(), a.reward,
                                a.recovery_time.value_or(-1.0), a.unit.c_str(), kind.c_str()),
          "append action");
}

// An incident row carries its id already (attempts name it).
constexpr std::string_view kIncidentFields = "tssstttuus";
void append_incident(sd_bus_message* reply, const heal::IncidentRecord& i) {
    // 0 stands for a time not reached (still open, never durably healthy);
    // outcome names are literals, so .data() is null-terminated.
    const auto usec_or_zero = [](const std::optional<heal::TimePoint>& time) {
        return time ? usec_since_epoch(*time) : std::uint64_t{0};
    };
    const std::string kind = i.failure_kind ? std::string(heal::to_string(*i.failure_kind)) : "";
    check(sd_bus_message_append(reply, kIncidentFields.data(), count(i.id), i.unit.c_str(), kind.c_str(),
                                heal::to_string(i.outcome).data(), usec_since_epoch(i.opened), usec_or_zero(i.closed),
                                usec_or_zero(i.healthy_since), static_cast<std::uint32_t>(i.attempts),
                                static_cast<std::uint32_t>(i.relapses), i.detail.c_str()),
          "append incident");
}

std::uint32_t read_limit(sd_bus_message* call) {
    std::uint32_t limit = 0;
    check(sd_bus_message_read(call, "u", &limit), "read limit");
    return limit;
}

int method_get_metrics(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().metrics(caller_of(call), read_limit(call));
        return reply_rows(call, kMetricFields, false, records, append_metric);
    });
}

int method_get_actions(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().actions(caller_of(call), read_limit(call));
        return reply_rows(call, kActionFields, false, records, append_action);
    });
}


// The attempt figures keep the original fixed struct (avg_mttr -1 when there
// is no success); the incident figures follow as a dict, so a figure that
// does not exist yet is absent rather than a made-up number, and later
// figures can be added without changing the signature again.
int method_get_summary(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const heal::Summary s = self_of(userdata).service().summary();
        sd_bus_message* reply = nullptr;
        check(sd_bus_message_new_method_return(call, &reply), "new reply");
        std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> owned(reply, sd_bus_message_unref);
        check(sd_bus_message_append(reply, "(tttdd)", count(s.total_actions), count(s.successes), count(s.failures),
                                    s.success_rate, s.avg_mttr.value_or(-1.0)),
              "append summary");
        check(sd_bus_message_open_container(reply, 'a', "{sv}"), "open incidents");
        for (const auto& [name, value] : {std::pair{"incidents", s.incidents}, std::pair{"resolved", s.resolved},
                                          std::pair{"given_up", s.given_up}, std::pair{"relapses", s.relapses},
                                          std::pair{"self_resolved", s.self_resolved}})
            check(sd_bus_message_append(reply, "{sv}", name, "t", count(value)), "append incident count");
        for (const auto& [name, value] : {std::pair{"attempts_per_incident", s.attempts_per_incident},
                                          std::pair{"mttr", s.mttr}})
            if (value) check(sd_bus_message_append(reply, "{sv}", name, "d", *value), "append incident mean");
        check(sd_bus_message_close_container(reply), "close incidents");
        return sd_bus_send(nullptr, reply, nullptr);
    });
}

int method_get_incidents(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().incidents(caller_of(call), read_limit(call));
        return reply_rows(call, kIncidentFields, false, records, append_incident);
    });
}

// Reads an a{sv} argument: `read_entry(name, signature)` is called with the
// variant's signature and must read the variant ("v") or refuse the entry.
template <typename ReadEntry>
void read_options(sd_bus_message* call, ReadEntry read_entry) {
    check(sd_bus_message_enter_container(call, 'a', "{sv}"), "open options");
    for (;;) {
        const int r = sd_bus_message_enter_container(call, 'e', "sv");
        check(r, "open entry");
        if (r == 0) break;
        const char* key = nullptr;
        check(sd_bus_message_read(call, "s", &key), "read key");
        const char* contents = nullptr;
        check(sd_bus_message_peek_type(call, nullptr, &contents), "peek variant");
        read_entry(std::string(key), std::string_view(contents ? contents : ""));
        check(sd_bus_message_exit_container(call), "close entry");
    }
    check(sd_bus_message_exit_container(call), "close options");
}

void require_type(const std::string& name, std::string_view signature, std::string_view wanted, std::string_view what) {
    if (signature != wanted)
        throw RequestError(RequestError::Code::InvalidArgument,
                           fmt::format("'{}' must be {} ({}), not '{}'", name, what, wanted, signature));
}

// Reads Detect's a{sv}: "cpu" and "memory", each a double.
std::pair<std::optional<double>, std::optional<double>> read_detect_values(sd_bus_message* call) {
    std::optional<double> cpu, memory;
    read_options(call, [&](const std::string& name, std::string_view signature) {
        if (name != "cpu" && name != "memory")
            throw RequestError(RequestError::Code::InvalidArgument,
                               fmt::format("unknown value '{}' (cpu, memory)", name));
        require_type(name, signature, "d", "a double");
        double value = 0.0;
        check(sd_bus_message_read(call, "v", "d", &value), "read value");
        (name == "cpu" ? cpu : memory) = value;
    });
    return {cpu, memory};
}

// Reads the List* methods' (a{sv} filter, t after, u limit).
heal::HistoryPage read_history_page(sd_bus_message* call) {
    heal::HistoryPage page;
    const auto time_of = [](std::uint64_t usec) {
        return heal::TimePoint(std::chrono::duration_cast<heal::TimePoint::duration>(std::chrono::microseconds(usec)));
    };
    read_options(call, [&](const std::string& name, std::string_view signature) {
        if (name == "since" || name == "until") {
            require_type(name, signature, "t", "microseconds since the epoch");
            std::uint64_t usec = 0;
            check(sd_bus_message_read(call, "v", "t", &usec), "read time");
            if (usec > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                throw RequestError(RequestError::Code::InvalidArgument, fmt::format("'{}' is out of range", name));
            (name == "since" ? page.since : page.until) = time_of(usec);
        } else if (name == "unit") {
            require_type(name, signature, "s", "a unit name, \"\" for the machine");
            const char* unit = nullptr;
            check(sd_bus_message_read(call, "v", "s", &unit), "read unit");
            page.unit = unit;
        } else if (name == "newest_first") {
            require_type(name, signature, "b", "a boolean");
            int newest_first = 0;
            check(sd_bus_message_read(call, "v", "b", &newest_first), "read order");
            page.newest_first = newest_first != 0;
        } else {
            throw RequestError(RequestError::Code::InvalidArgument,
                               fmt::format("unknown filter '{}' (since, until, unit, newest_first)", name));
        }
    });
    std::uint64_t after = 0;
    std::uint32_t limit = 0;
    check(sd_bus_message_read(call, "tu", &after, &limit), "read after and limit");
    if (after > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw RequestError(RequestError::Code::InvalidArgument, "'after' is not a row id");
    page.after_id = static_cast<std::int64_t>(after);
    page.limit = limit;
    return page;
}

int method_list_metrics(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().metrics_page(caller_of(call), read_history_page(call));
        return reply_rows(call, kMetricFields, true, records, append_metric);
    });
}

int method_list_actions(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().actions_page(caller_of(call), read_history_page(call));
        // An export also says which incident each attempt was made for (0: none).
        return reply_rows(call, fmt::format("{}t", kActionFields), true, records,
                          [](sd_bus_message* reply, const heal::ActionRecord& a) {
                              append_action(reply, a);
                              check(sd_bus_message_append(reply, "t", count(a.incident_id.value_or(0))),
                                    "append incident id");
                          });
    });
}

int method_list_incidents(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto records = self_of(userdata).service().incidents_page(caller_of(call), read_history_page(call));
        return reply_rows(call, kIncidentFields, false, records, append_incident);
    });
}

int method_detect(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const auto [cpu, memory] = read_detect_values(call);
        const DetectReply result = self_of(userdata).service().detect(cpu, memory);
        sd_bus_message* reply = nullptr;
        check(sd_bus_message_new_method_return(call, &reply), "new reply");
        std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> owned(reply, sd_bus_message_unref);
        check(sd_bus_message_append(reply, "bs", static_cast<int>(result.detected),
                                    result.detected ? "Failed" : "Healthy"),
              "append result");
        check(sd_bus_message_open_container(reply, 'a', "(sddbs)"), "open array");
        for (const heal::Verdict& v : result.verdicts)
            check(sd_bus_message_append(reply, "(sddbs)", v.metric.c_str(), v.value, v.threshold,
                                        static_cast<int>(v.anomalous), v.reason.c_str()),
                  "append verdict");
        check(sd_bus_message_close_container(reply), "close array");
        return sd_bus_send(nullptr, reply, nullptr);
    });
}

int method_get_policy(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const PolicyReply policy = self_of(userdata).service().policy();
        sd_bus_message* reply = nullptr;
        check(sd_bus_message_new_method_return(call, &reply), "new reply");
        std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> owned(reply, sd_bus_message_unref);
        check(sd_bus_message_append(reply, "s", policy.name.c_str()), "append name");
        check(sd_bus_message_open_container(reply, 'a', "(sd)"), "open array");
        for (const heal::Action action : heal::kAllActions)
            check(sd_bus_message_append(reply, "(sd)", std::string(heal::to_string(action)).c_str(),
                                        static_cast<double>(policy.probabilities[static_cast<std::size_t>(action)])),
                  "append probability");
        check(sd_bus_message_close_container(reply), "close array");
        return sd_bus_send(nullptr, reply, nullptr);
    });
}

int method_get_decision(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const char* unit = nullptr;
        check(sd_bus_message_read(call, "s", &unit), "read unit");
        self_of(userdata).service().decision(unit, [call = keep(call)](std::variant<DecisionReply, RequestError> result) {
            if (const auto* failure = std::get_if<RequestError>(&result)) return reply_error(call, *failure);
            const DecisionReply& reply = std::get<DecisionReply>(result);
            const heal::Decision& decision = reply.decision;
            const auto name_of = [](const std::optional<heal::Action>& action) {
                return action ? std::string(heal::to_string(*action)) : std::string();
            };
            const auto send = [&] {
                sd_bus_message* message = nullptr;
                check(sd_bus_message_new_method_return(call.get(), &message), "new reply");
                std::unique_ptr<sd_bus_message, decltype(&sd_bus_message_unref)> owned(message, sd_bus_message_unref);
                check(sd_bus_message_append(message, "sssssuud", reply.policy.c_str(), reply.target.c_str(),
                                            name_of(decision.action).c_str(), decision.why_none.c_str(),
                                            reply.incident_state.c_str(), reply.attempts, reply.relapses,
                                            reply.next_attempt_in.value_or(-1.0)),
                      "append decision");
                check(sd_bus_message_open_container(message, 'a', "(sdbs)"), "open array");
                for (const heal::Action action : heal::kAllActions) {
                    const auto i = static_cast<std::size_t>(action);
                    check(sd_bus_message_append(message, "(sdbs)", std::string(heal::to_string(action)).c_str(),
                                                static_cast<double>(decision.probabilities[i]),
                                                static_cast<int>(decision.excluded[i].empty()),
                                                decision.excluded[i].c_str()),
                          "append action");
                }
                check(sd_bus_message_close_container(message), "close array");
                check(sd_bus_message_append(message, "s", name_of(decision.shadow_action).c_str()), "append shadow");
                return sd_bus_send(nullptr, message, nullptr);
            };
            try {
                if (send() < 0) log_warning("cannot reply to GetDecision: the caller is gone");
            } catch (const std::exception& e) {
                log_warning(fmt::format("cannot reply to GetDecision: {}", e.what()));
            }
        });
        return 1;
    });
}

// ---- mutating methods -------------------------------------------------------------

int method_recover(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const char* unit = nullptr;
        const char* action = nullptr;
        check(sd_bus_message_read(call, "ss", &unit, &action), "read arguments");
        self_of(userdata).service().recover(caller_of(call), unit, action, [call = keep(call)](std::variant<RecoveryReply, RequestError> result) {
            if (const auto* failure = std::get_if<RequestError>(&result)) return reply_error(call, *failure);
            const RecoveryReply& reply = std::get<RecoveryReply>(result);
            const heal::ActionRecord& record = reply.record;
            if (sd_bus_reply_method_return(call.get(), "ssddss", std::string(heal::to_string(record.action)).c_str(),
                                           result_name(record).data(), record.reward,
                                           record.recovery_time.value_or(-1.0), record.unit.c_str(),
                                           reply.detail.c_str()) < 0)
                log_warning("cannot reply to Recover: the caller is gone");
        });
        return 1;
    });
}

int method_train(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        std::uint32_t episodes = 0;
        check(sd_bus_message_read(call, "u", &episodes), "read episodes");
        self_of(userdata).service().train(caller_of(call), episodes);
        return sd_bus_reply_method_return(call, "");
    });
}

int method_simulate_failure(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const char* kind = nullptr;
        const char* unit = nullptr;
        check(sd_bus_message_read(call, "ss", &kind, &unit), "read arguments");
        self_of(userdata).service().simulate_failure(caller_of(call), kind, unit, [call = keep(call)](std::variant<std::string, RequestError> result) {
            if (const auto* failure = std::get_if<RequestError>(&result)) return reply_error(call, *failure);
            if (sd_bus_reply_method_return(call.get(), "s", std::get<std::string>(result).c_str()) < 0)
                log_warning("cannot reply to SimulateFailure: the caller is gone");
        });
        return 1;
    });
}

int method_pause(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const char* unit = nullptr;
        std::uint64_t seconds = 0;
        check(sd_bus_message_read(call, "st", &unit, &seconds), "read arguments");
        const std::string done = self_of(userdata).service().pause(caller_of(call), unit, seconds);
        return sd_bus_reply_method_return(call, "s", done.c_str());
    });
}

int method_resume(sd_bus_message* call, void* userdata, sd_bus_error* error) {
    return guarded(error, [&] {
        const char* unit = nullptr;
        check(sd_bus_message_read(call, "s", &unit), "read arguments");
        const std::string done = self_of(userdata).service().resume(caller_of(call), unit);
        return sd_bus_reply_method_return(call, "s", done.c_str());
    });
}

// Every method is callable by anyone as far as sd-bus is concerned: the D-Bus
// policy lets only root and group healerd send the mutating ones, and the
// Service checks the caller again (Service::authorize), so a missing policy
// file opens nothing.
constexpr auto kOpen = SD_BUS_VTABLE_UNPRIVILEGED;
constexpr auto kEmits = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Health", "s", get_health, 0, kEmits),
    SD_BUS_PROPERTY("Cpu", "d", get_cpu, 0, kEmits),
    SD_BUS_PROPERTY("Memory", "d", get_memory, 0, kEmits),
    SD_BUS_PROPERTY("FailureCount", "u", get_failure_count, 0, kEmits),
    SD_BUS_PROPERTY("Policy", "s", get_policy, 0, kEmits),
    SD_BUS_PROPERTY("ModelLoaded", "b", get_model_loaded, 0, kEmits),
    SD_BUS_PROPERTY("ModelProvenance", "s", get_model_provenance, 0, kEmits),
    SD_BUS_PROPERTY("TrainingState", "s", get_training_state, 0, kEmits),
    SD_BUS_PROPERTY("Backend", "s", get_backend, 0, kEmits),
    SD_BUS_PROPERTY("AutoRecover", "b", get_auto_recover, 0, kEmits),
    SD_BUS_PROPERTY("WatchedUnits", "as", get_watched_units, 0, kEmits),
    SD_BUS_PROPERTY("UnitStates", "a(ss)", get_unit_states, 0, kEmits),
    SD_BUS_PROPERTY("Paused", "a(stu)", get_paused, 0, kEmits),
    SD_BUS_PROPERTY("UnitLimits", "a(sttt)", get_unit_limits, 0, kEmits),
    SD_BUS_PROPERTY("RaisedLimits", "a(sstttt)", get_raised_limits, 0, kEmits),
    SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),

    SD_BUS_METHOD_WITH_NAMES("GetMetrics", "u", SD_BUS_PARAM(limit), "a(tddss)", SD_BUS_PARAM(metrics),
                             method_get_metrics, kOpen),
    SD_BUS_METHOD_WITH_NAMES("GetActions", "u", SD_BUS_PARAM(limit), "a(tssddss)", SD_BUS_PARAM(actions),
                             method_get_actions, kOpen),
    SD_BUS_METHOD_WITH_NAMES("GetSummary", "", , "(tttdd)a{sv}", SD_BUS_PARAM(summary) SD_BUS_PARAM(incidents),
                             method_get_summary, kOpen),
    SD_BUS_METHOD_WITH_NAMES("GetIncidents", "u", SD_BUS_PARAM(limit), "a(tssstttuus)", SD_BUS_PARAM(incidents),
                             method_get_incidents, kOpen),
    SD_BUS_METHOD_WITH_NAMES("ListMetrics", "a{sv}tu", SD_BUS_PARAM(filter) SD_BUS_PARAM(after) SD_BUS_PARAM(limit),
                             "a(ttddss)", SD_BUS_PARAM(metrics), method_list_metrics, kOpen),
    SD_BUS_METHOD_WITH_NAMES("ListActions", "a{sv}tu", SD_BUS_PARAM(filter) SD_BUS_PARAM(after) SD_BUS_PARAM(limit),
                             "a(ttssddsst)", SD_BUS_PARAM(actions), method_list_actions, kOpen),
    SD_BUS_METHOD_WITH_NAMES("ListIncidents", "a{sv}tu", SD_BUS_PARAM(filter) SD_BUS_PARAM(after) SD_BUS_PARAM(limit),
                             "a(tssstttuus)", SD_BUS_PARAM(incidents), method_list_incidents, kOpen),
    SD_BUS_METHOD_WITH_NAMES("Detect", "a{sv}", SD_BUS_PARAM(values), "bsa(sddbs)",
                             SD_BUS_PARAM(detected) SD_BUS_PARAM(status) SD_BUS_PARAM(metrics), method_detect, kOpen),
    SD_BUS_METHOD_WITH_NAMES("GetPolicy", "", , "sa(sd)", SD_BUS_PARAM(policy) SD_BUS_PARAM(probabilities),
                             method_get_policy, kOpen),
    SD_BUS_METHOD_WITH_NAMES("GetDecision", "s", SD_BUS_PARAM(unit), "sssssuuda(sdbs)s",
                             SD_BUS_PARAM(policy) SD_BUS_PARAM(target) SD_BUS_PARAM(action) SD_BUS_PARAM(reason)
                                 SD_BUS_PARAM(incident) SD_BUS_PARAM(attempts) SD_BUS_PARAM(relapses)
                                     SD_BUS_PARAM(next_attempt_in) SD_BUS_PARAM(actions) SD_BUS_PARAM(shadow),
                             method_get_decision, kOpen),
    SD_BUS_METHOD_WITH_NAMES("Recover", "ss", SD_BUS_PARAM(unit) SD_BUS_PARAM(action), "ssddss",
                             SD_BUS_PARAM(action) SD_BUS_PARAM(result) SD_BUS_PARAM(reward)
                                 SD_BUS_PARAM(recovery_time) SD_BUS_PARAM(unit) SD_BUS_PARAM(detail),
                             method_recover, kOpen),
    SD_BUS_METHOD_WITH_NAMES("Train", "u", SD_BUS_PARAM(episodes), "", , method_train, kOpen),
    SD_BUS_METHOD_WITH_NAMES("SimulateFailure", "ss", SD_BUS_PARAM(kind) SD_BUS_PARAM(unit), "s",
                             SD_BUS_PARAM(description), method_simulate_failure, kOpen),
    SD_BUS_METHOD_WITH_NAMES("Pause", "st", SD_BUS_PARAM(unit) SD_BUS_PARAM(seconds), "s", SD_BUS_PARAM(description),
                             method_pause, kOpen),
    SD_BUS_METHOD_WITH_NAMES("Resume", "s", SD_BUS_PARAM(unit), "s", SD_BUS_PARAM(description), method_resume,
                             kOpen),

    SD_BUS_SIGNAL_WITH_NAMES("FailureDetected", "ssdds",
                             SD_BUS_PARAM(unit) SD_BUS_PARAM(metric) SD_BUS_PARAM(value) SD_BUS_PARAM(threshold)
                                 SD_BUS_PARAM(reason),
                             0),
    SD_BUS_SIGNAL_WITH_NAMES("RecoveryFinished", "sssdd",
                             SD_BUS_PARAM(unit) SD_BUS_PARAM(action) SD_BUS_PARAM(result) SD_BUS_PARAM(reward)
                                 SD_BUS_PARAM(recovery_time),
                             0),
    SD_BUS_SIGNAL_WITH_NAMES("TrainingProgress", "uud",
                             SD_BUS_PARAM(episode) SD_BUS_PARAM(episodes) SD_BUS_PARAM(mean_reward), 0),
    SD_BUS_SIGNAL_WITH_NAMES("TrainingFinished", "buds",
                             SD_BUS_PARAM(success) SD_BUS_PARAM(episodes) SD_BUS_PARAM(mean_reward)
                                 SD_BUS_PARAM(message),
                             0),
    SD_BUS_VTABLE_END,
};

}  // namespace

BusObject::BusObject(sd_bus* bus, Service& service) : bus_(bus), service_(service) {
    const int r = sd_bus_add_object_vtable(bus_, &slot_, kObjectPath, kInterface, kVtable, this);
    if (r < 0) throw std::system_error(-r, std::generic_category(), "cannot register the D-Bus object");
}

BusObject::~BusObject() { sd_bus_slot_unref(slot_); }

namespace {
void warn_on_failure(int r, const char* signal) {
    if (r < 0) log_warning(fmt::format("cannot emit {}: {}", signal, std::generic_category().message(-r)));
}
}  // namespace

void BusObject::failure_detected(const heal::FailureEvent& event) {
    warn_on_failure(sd_bus_emit_signal(bus_, kObjectPath, kInterface, "FailureDetected", "ssdds", event.unit.c_str(),
                                       event.metric.c_str(), event.value, event.threshold, event.reason.c_str()),
                    "FailureDetected");
}

void BusObject::recovery_finished(const heal::ActionRecord& record) {
    warn_on_failure(sd_bus_emit_signal(bus_, kObjectPath, kInterface, "RecoveryFinished", "sssdd", record.unit.c_str(),
                                       std::string(heal::to_string(record.action)).c_str(),
                                       result_name(record).data(), record.reward,
                                       record.recovery_time.value_or(-1.0)),
                    "RecoveryFinished");
}

void BusObject::training_progress(const heal::TrainingProgress& progress) {
    warn_on_failure(sd_bus_emit_signal(bus_, kObjectPath, kInterface, "TrainingProgress", "uud", progress.episode,
                                       progress.episodes, progress.mean_reward),
                    "TrainingProgress");
}

void BusObject::training_finished(bool success, std::uint32_t episodes, double mean_reward, const std::string& message) {
    warn_on_failure(sd_bus_emit_signal(bus_, kObjectPath, kInterface, "TrainingFinished", "buds",
                                       static_cast<int>(success), episodes, mean_reward, message.c_str()),
                    "TrainingFinished");
}

void BusObject::properties_changed(const std::vector<const char*>& names) {
    std::vector<char*> strv;
    for (const char* name : names) strv.push_back(const_cast<char*>(name));
    strv.push_back(nullptr);
    warn_on_failure(sd_bus_emit_properties_changed_strv(bus_, kObjectPath, kInterface, strv.data()),
                    "PropertiesChanged");
}

}  // namespace healerd
