#include "config/fault_injection.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace heal;

TEST_CASE("real fault injection needs the unit's opt-in, and the refusal says how", "[config]") {
    Config config;
    config.unit_settings["healerd-demo.service"].allow_fault_injection = true;
    config.unit_settings["db.service"] = UnitSettings{};  // a file without the key
    const std::filesystem::path main_file = "/srv/heal/healerd.conf";

    CHECK_FALSE(real_fault_refusal(config, main_file, "healerd-demo.service"));

    for (const char* unit : {"nginx.service", "db.service"}) {
        const auto refusal = real_fault_refusal(config, main_file, unit);
        REQUIRE(refusal);
        INFO(*refusal);
        CHECK(refusal->find(unit) == 0);
        CHECK(refusal->find("create /srv/heal/units.d/" + std::string(unit) + ".conf") != std::string::npos);
        CHECK(refusal->find("[Unit] AllowFaultInjection=yes") != std::string::npos);
        CHECK(refusal->find("reload healerd") != std::string::npos);
    }
}
