#pragma once
// The org.healerd.Healer1 object on D-Bus (see docs/dbus-api.md): typed
// arguments in, Service calls, typed replies, signals and PropertiesChanged
// out. Nothing here decides anything.
#include <systemd/sd-bus.h>

#include "service.hpp"

namespace healerd {

inline constexpr const char* kBusName = "org.healerd.Healer1";
inline constexpr const char* kObjectPath = "/org/healerd/Healer1";
inline constexpr const char* kInterface = "org.healerd.Healer1";

class BusObject final : public ServiceEvents {
public:
    // Registers the object's vtable on `bus`; throws std::system_error.
    BusObject(sd_bus* bus, Service& service);
    ~BusObject() override;
    BusObject(const BusObject&) = delete;
    BusObject& operator=(const BusObject&) = delete;

    void failure_detected(const heal::FailureEvent& event) override;
    void recovery_finished(const heal::ActionRecord& record) override;
    void training_progress(const heal::TrainingProgress& progress) override;
    void training_finished(bool success, std::uint32_t episodes, double mean_reward,
                           const std::string& message) override;
    void properties_changed(const std::vector<const char*>& names) override;

    sd_bus* bus() const { return bus_; }
    Service& service() const { return service_; }

private:
    sd_bus* bus_;
    Service& service_;
    sd_bus_slot* slot_ = nullptr;
};

}  // namespace healerd
