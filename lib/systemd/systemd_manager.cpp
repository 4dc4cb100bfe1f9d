#include "systemd/systemd_manager.hpp"

#include <fmt/format.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

namespace heal::systemd {
namespace {

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";

using Clock = std::chrono::steady_clock;

struct BusUnref {
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
struct MessageUnref {
    void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;

// sd_bus_error with automatic cleanup.
class BusError {
public:
    BusError() = default;
    ~BusError() { sd_bus_error_free(&error_); }
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    sd_bus_error* get() { return &error_; }
    bool has_name(const char* name) const { return sd_bus_error_has_name(&error_, name); }
    std::string message(int r) const {
        if (error_.message) return error_.message;
        if (error_.name) return error_.name;
        return std::strerror(-r);
    }

private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

void check(int r, const std::string& what) {
    if (r < 0) throw Error(fmt::format("{}: {}", what, std::strerror(-r)));
}

std::string full_interface(const std::string& short_name) { return "org.freedesktop.systemd1." + short_name; }

// A NULL-terminated char* array viewing `strings`, for sd_bus_message_append_strv.
std::vector<char*> strv(const std::vector<std::string>& strings) {
    std::vector<char*> result;
    result.reserve(strings.size() + 1);
    for (const auto& s : strings) result.push_back(const_cast<char*>(s.c_str()));
    result.push_back(nullptr);
    return result;
}

}  // namespace

struct Manager::Impl {
    BusPtr bus;
    SlotPtr job_removed_slot;
    std::map<std::string, std::string> finished_jobs;  // job path -> result

    static int on_job_removed(sd_bus_message* message, void* userdata, sd_bus_error*) {
        auto* self = static_cast<Impl*>(userdata);
        std::uint32_t id = 0;
        const char* job = nullptr;
        const char* unit = nullptr;
        const char* result = nullptr;
        if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) >= 0) {
            self->finished_jobs[job] = result;
        }
        return 0;
    }

    MessagePtr call(const std::string& what, const char* member, const char* types, auto... args) {
        BusError error;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call_method(bus.get(), kDestination, kManagerPath, kManagerInterface, member,
                                         error.get(), &reply, types, args...);
        if (r < 0) throw Error(fmt::format("{}: {}", what, error.message(r)));
        return MessagePtr(reply);
    }

    MessagePtr new_call(const char* member) {
        sd_bus_message* message = nullptr;
        check(sd_bus_message_new_method_call(bus.get(), &message, kDestination, kManagerPath, kManagerInterface,
                                             member),
              fmt::format("building {} call", member));
        return MessagePtr(message);
    }

    MessagePtr send(const std::string& what, MessagePtr& message) {
        BusError error;
        sd_bus_message* reply = nullptr;
        const int r = sd_bus_call(bus.get(), message.get(), 0, error.get(), &reply);
        if (r < 0) throw Error(fmt::format("{}: {}", what, error.message(r)));
        return MessagePtr(reply);
    }

    static std::string read_object_path(MessagePtr& reply, const std::string& what) {
        const char* path = nullptr;
        check(sd_bus_message_read(reply.get(), "o", &path), what + ": reading reply");
        return path;
    }

    // Runs the bus until `done()` holds; throws `what` once `deadline` passes.
    // `poll_interval` bounds each wait so conditions read by property calls,
    // not only by signals, are re-checked.
    void run_until(const std::function<bool()>& done, Clock::time_point deadline, const std::string& what,
                   std::chrono::milliseconds poll_interval = std::chrono::milliseconds(0)) {
        while (!done()) {
            const int r = sd_bus_process(bus.get(), nullptr);
            check(r, what);
            if (r > 0) continue;
            const auto now = Clock::now();
            if (now >= deadline) throw Error(what + ": timed out");
            auto wait = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
            if (poll_interval.count() > 0) wait = std::min<std::chrono::microseconds>(wait, poll_interval);
            const int w = sd_bus_wait(bus.get(), static_cast<std::uint64_t>(wait.count()));
            if (w < 0 && w != -EINTR) check(w, what);
        }
    }

    std::string await_job(const std::string& job, Clock::time_point deadline, const std::string& what) {
        run_until([&] { return finished_jobs.contains(job); }, deadline, what);
        auto node = finished_jobs.extract(job);
        return node.mapped();
    }

    // method(unit, "replace"), then its job awaited: RestartUnit, StartUnit.
    std::string run_job(const char* method, const std::string& unit, std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        const std::string what = fmt::format("{} {}", method, unit);
        auto reply = call(what, method, "ss", unit.c_str(), "replace");
        return await_job(read_object_path(reply, what), deadline, fmt::format("waiting for the {} job of {}", method, unit));
    }

    void append_property(sd_bus_message* m, const char* name, const char* type, auto value) {
        check(sd_bus_message_append(m, "(sv)", name, type, value), fmt::format("appending {}", name));
    }

    void append_strv_property(sd_bus_message* m, const char* name, const std::vector<std::string>& values) {
        auto array = strv(values);
        const std::string what = fmt::format("appending {}", name);
        check(sd_bus_message_open_container(m, 'r', "sv"), what);
        check(sd_bus_message_append(m, "s", name), what);
        check(sd_bus_message_open_container(m, 'v', "as"), what);
        check(sd_bus_message_append_strv(m, array.data()), what);
        check(sd_bus_message_close_container(m), what);
        check(sd_bus_message_close_container(m), what);
    }

    void append_exec_start(sd_bus_message* m, const std::vector<std::string>& argv) {
        auto array = strv(argv);
        const std::string what = "appending ExecStart";
        check(sd_bus_message_open_container(m, 'r', "sv"), what);
        check(sd_bus_message_append(m, "s", "ExecStart"), what);
        check(sd_bus_message_open_container(m, 'v', "a(sasb)"), what);
        check(sd_bus_message_open_container(m, 'a', "(sasb)"), what);
        check(sd_bus_message_open_container(m, 'r', "sasb"), what);
        check(sd_bus_message_append(m, "s", argv.front().c_str()), what);
        check(sd_bus_message_append_strv(m, array.data()), what);
        check(sd_bus_message_append(m, "b", 0), what);  // a failing command fails the unit
        for (int i = 0; i < 4; ++i) check(sd_bus_message_close_container(m), what);
    }
};

Manager::Manager(BusScope scope) : impl_(std::make_unique<Impl>()) {
    sd_bus* bus = nullptr;
    const int r = scope == BusScope::system ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
    check(r, scope == BusScope::system ? "connecting to the system bus" : "connecting to the user bus");
    impl_->bus.reset(bus);
    sd_bus_slot* slot = nullptr;
    check(sd_bus_match_signal(bus, &slot, kDestination, kManagerPath, kManagerInterface, "JobRemoved",
                              &Impl::on_job_removed, impl_.get()),
          "subscribing to systemd's JobRemoved");
    impl_->job_removed_slot.reset(slot);
    // Makes systemd emit the signals awaited below even where it would
    // otherwise send them only to their job's requester.
    impl_->call("Subscribe", "Subscribe", "");
}

Manager::~Manager() = default;
Manager::Manager(Manager&&) noexcept = default;
Manager& Manager::operator=(Manager&&) noexcept = default;

std::string Manager::version() {
    BusError error;
    char* value = nullptr;
    const int r = sd_bus_get_property_string(impl_->bus.get(), kDestination, kManagerPath, kManagerInterface,
                                             "Version", error.get(), &value);
    if (r < 0) throw Error("reading systemd's Version: " + error.message(r));
    std::string result(value);
    std::free(value);
    return result;
}

std::optional<std::string> Manager::find_unit(const std::string& unit) {
    BusError error;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call_method(impl_->bus.get(), kDestination, kManagerPath, kManagerInterface, "GetUnit",
                                     error.get(), &reply, "s", unit.c_str());
    if (r < 0) {
        if (error.has_name(kNoSuchUnit)) return std::nullopt;
        throw Error(fmt::format("GetUnit {}: {}", unit, error.message(r)));
    }
    MessagePtr owned(reply);
    return Impl::read_object_path(owned, "GetUnit " + unit);
}

std::string Manager::load_unit(const std::string& unit) {
    auto reply = impl_->call("LoadUnit " + unit, "LoadUnit", "s", unit.c_str());
    return Impl::read_object_path(reply, "LoadUnit " + unit);
}

std::string Manager::string_property(const std::string& path, const std::string& interface,
                                     const std::string& name) {
    BusError error;
    char* value = nullptr;
    const int r = sd_bus_get_property_string(impl_->bus.get(), kDestination, path.c_str(),
                                             full_interface(interface).c_str(), name.c_str(), error.get(), &value);
    if (r < 0) throw Error(fmt::format("reading {} of {}: {}", name, path, error.message(r)));
    std::string result(value);
    std::free(value);
    return result;
}

namespace {

template <typename T>
T trivial_property(sd_bus* bus, const std::string& path, const std::string& interface, const std::string& name,
                   char type) {
    BusError error;
    T value{};
    const int r = sd_bus_get_property_trivial(bus, kDestination, path.c_str(), full_interface(interface).c_str(),
                                              name.c_str(), error.get(), type, &value);
    if (r < 0) throw Error(fmt::format("reading {} of {}: {}", name, path, error.message(r)));
    return value;
}

}  // namespace

std::uint64_t Manager::u64_property(const std::string& path, const std::string& interface, const std::string& name) {
    return trivial_property<std::uint64_t>(impl_->bus.get(), path, interface, name, 't');
}

std::uint32_t Manager::u32_property(const std::string& path, const std::string& interface, const std::string& name) {
    return trivial_property<std::uint32_t>(impl_->bus.get(), path, interface, name, 'u');
}

std::int32_t Manager::i32_property(const std::string& path, const std::string& interface, const std::string& name) {
    return trivial_property<std::int32_t>(impl_->bus.get(), path, interface, name, 'i');
}

std::vector<std::string> Manager::exec_start_paths(const std::string& path) {
    const std::string what = "reading ExecStart of " + path;
    BusError error;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_get_property(impl_->bus.get(), kDestination, path.c_str(), full_interface("Service").c_str(),
                                      "ExecStart", error.get(), &raw, "a(sasbttttuii)");
    if (r < 0) throw Error(fmt::format("{}: {}", what, error.message(r)));
    MessagePtr reply(raw);
    std::vector<std::string> paths;
    check(sd_bus_message_enter_container(raw, 'a', "(sasbttttuii)"), what);
    while (true) {
        const int entered = sd_bus_message_enter_container(raw, 'r', "sasbttttuii");
        check(entered, what);
        if (entered == 0) break;
        const char* program = nullptr;
        check(sd_bus_message_read(raw, "s", &program), what);
        paths.emplace_back(program);
        check(sd_bus_message_skip(raw, "asbttttuii"), what);
        check(sd_bus_message_exit_container(raw), what);
    }
    return paths;
}

std::string Manager::restart_unit(const std::string& unit, std::chrono::milliseconds timeout) {
    return impl_->run_job("RestartUnit", unit, timeout);
}

std::string Manager::start_unit(const std::string& unit, std::chrono::milliseconds timeout) {
    return impl_->run_job("StartUnit", unit, timeout);
}

void Manager::kill_unit(const std::string& unit, const std::string& whom, int signal) {
    impl_->call(fmt::format("KillUnit {} (signal {})", unit, signal), "KillUnit", "ssi", unit.c_str(), whom.c_str(),
                signal);
}

void Manager::set_runtime_properties(const std::string& unit,
                                     const std::vector<std::pair<std::string, std::uint64_t>>& properties) {
    const std::string what = "SetUnitProperties " + unit;
    auto message = impl_->new_call("SetUnitProperties");
    sd_bus_message* m = message.get();
    check(sd_bus_message_append(m, "sb", unit.c_str(), 1), what);
    check(sd_bus_message_open_container(m, 'a', "(sv)"), what);
    for (const auto& [name, value] : properties) impl_->append_property(m, name.c_str(), "t", value);
    check(sd_bus_message_close_container(m), what);
    impl_->send(what, message);
}

ServiceExit Manager::run_transient(const TransientService& service, std::chrono::milliseconds timeout) {
    if (service.argv.empty()) throw Error("StartTransientUnit " + service.name + ": no command");
    const auto deadline = Clock::now() + timeout;
    const std::string what = "StartTransientUnit " + service.name;

    auto message = impl_->new_call("StartTransientUnit");
    sd_bus_message* m = message.get();
    check(sd_bus_message_append(m, "ss", service.name.c_str(), "fail"), what);
    check(sd_bus_message_open_container(m, 'a', "(sv)"), what);
    impl_->append_property(m, "Description", "s", service.description.c_str());
    // exec, unlike simple, fails the start job when the program cannot be executed.
    impl_->append_property(m, "Type", "s", "exec");
    impl_->append_exec_start(m, service.argv);
    impl_->append_strv_property(m, "Environment", service.environment);
    if (service.runtime_max.count() > 0) {
        const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(service.runtime_max).count();
        impl_->append_property(m, "RuntimeMaxUSec", "t", static_cast<std::uint64_t>(usec));
    }
    if (!service.syslog_identifier.empty()) {
        impl_->append_property(m, "SyslogIdentifier", "s", service.syslog_identifier.c_str());
    }
    // Held by this connection until read, then collected even when failed.
    impl_->append_property(m, "AddRef", "b", 1);
    impl_->append_property(m, "CollectMode", "s", "inactive-or-failed");
    check(sd_bus_message_close_container(m), what);
    check(sd_bus_message_append(m, "a(sa(sv))", 0), what);

    auto reply = impl_->send(what, message);
    const auto job = Impl::read_object_path(reply, what);
    impl_->await_job(job, deadline, "waiting for the start job of " + service.name);

    const auto path = find_unit(service.name);
    if (!path) throw Error(service.name + " vanished before its result could be read");
    // Property changes of a unit this connection references are sent to it,
    // so the wait below usually wakes on a signal; the poll is a backstop.
    const auto finished = [&] {
        const auto state = string_property(*path, "Unit", "ActiveState");
        return state == "inactive" || state == "failed";
    };
    impl_->run_until(finished, deadline, "waiting for " + service.name + " to finish",
                     std::chrono::milliseconds(200));
    ServiceExit exit;
    exit.result = string_property(*path, "Service", "Result");
    exit.code = i32_property(*path, "Service", "ExecMainCode");
    exit.status = i32_property(*path, "Service", "ExecMainStatus");
    BusError error;
    sd_bus_call_method(impl_->bus.get(), kDestination, path->c_str(), full_interface("Unit").c_str(), "Unref",
                       error.get(), nullptr, "");  // best effort: closing this connection drops the reference too
    return exit;
}

std::optional<std::string> resource_interface(const std::string& unit) {
    static const std::map<std::string, std::string> kInterfaces{
        {".service", "Service"}, {".scope", "Scope"}, {".slice", "Slice"},
        {".socket", "Socket"},   {".mount", "Mount"}, {".swap", "Swap"}};
    const auto dot = unit.rfind('.');
    if (dot == std::string::npos) return std::nullopt;
    const auto it = kInterfaces.find(unit.substr(dot));
    if (it == kInterfaces.end()) return std::nullopt;
    return it->second;
}

std::string unit_name_fragment(const std::string& text) {
    std::string result = text;
    for (char& c : result) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                             c == ':' || c == '_' || c == '.' || c == '-';
        if (!allowed) c = '_';
    }
    return result;
}

bool manager_available(BusScope scope) {
    if (scope == BusScope::system) return sd_booted() > 0;
    if (const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS"); address && *address) return true;
    const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
    std::error_code ignored;
    return runtime_dir && std::filesystem::exists(std::filesystem::path(runtime_dir) / "bus", ignored);
}

}  // namespace heal::systemd
