#include "recovery/raise_book.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using heal::LimitChange;
using heal::RaiseBook;
using heal::Store;

namespace {

const heal::TimePoint kT0 = heal::TimePoint(std::chrono::seconds(1'800'000'000));
constexpr std::uint64_t MiB = 1024 * 1024;
const std::string kBoot = "8d2c0a1e5b7f4c6d9e0f1a2b3c4d5e6f";

}  // namespace

TEST_CASE("a raise expires once its unit has been stable for the expiry", "[raise]") {
    heal::test::TempDir dir;
    Store store(dir / "heal.db");
    RaiseBook book(store, kBoot);
    book.record("web.service", {{"MemoryMax", 300 * MiB, 450 * MiB}}, kT0);
    CHECK(book.expires_at("web.service", 600s) == kT0 + 600s);
    CHECK(book.due(kT0 + 599s, 600s).empty());
    CHECK(book.due(kT0 + 600s, 600s) == std::vector<std::string>{"web.service"});

    // Trouble starts the stable time over; a past moment never moves it back.
    book.unsettle("web.service", kT0 + 300s);
    book.unsettle("web.service", kT0 + 100s);
    CHECK(book.due(kT0 + 600s, 600s).empty());
    CHECK(book.due(kT0 + 900s, 600s) == std::vector<std::string>{"web.service"});
    CHECK(book.due(kT0 + 24h, 0s).empty());  // ScaleUpExpireSec=0: until reboot
    CHECK_FALSE(book.expires_at("web.service", 0s));
    CHECK_FALSE(book.expires_at("db.service", 600s));

    book.forget("web.service");
    CHECK(book.find("web.service") == nullptr);
    CHECK(store.raised_limits().empty());
}

TEST_CASE("a limit raised again keeps the value the operator configured", "[raise]") {
    heal::test::TempDir dir;
    Store store(dir / "heal.db");
    RaiseBook book(store, kBoot);
    book.record("web.service", {{"MemoryMax", 300 * MiB, 450 * MiB}}, kT0);
    book.record("web.service", {{"MemoryMax", 450 * MiB, 600 * MiB}, {"CPUQuotaPerSecUSec", 500000, 750000}},
                kT0 + 60s);
    const std::vector<LimitChange> expected{{"MemoryMax", 300 * MiB, 600 * MiB}, {"CPUQuotaPerSecUSec", 500000, 750000}};
    CHECK(book.raised("web.service") == expected);
    CHECK(book.find("web.service")->raised_at == kT0 + 60s);
    CHECK(book.expires_at("web.service", 600s) == kT0 + 660s);
    CHECK(book.raised("db.service").empty());
}

TEST_CASE("raises survive a restart of healerd, not a reboot", "[raise]") {
    heal::test::TempDir dir;
    {
        Store store(dir / "heal.db");
        RaiseBook book(store, kBoot);
        book.record("web.service", {{"MemoryMax", 300 * MiB, 450 * MiB}}, kT0);
        book.record("db.service", {{"CPUQuotaPerSecUSec", 500000, 750000}}, kT0 + 10s);
    }
    {
        Store store(dir / "heal.db");
        RaiseBook book(store, kBoot);  // healerd restarted, same boot
        CHECK(book.dropped_at_load() == 0);
        CHECK(book.raised("web.service") == std::vector<LimitChange>{{"MemoryMax", 300 * MiB, 450 * MiB}});
        CHECK(book.expires_at("db.service", 60s) == kT0 + 70s);
    }
    Store store(dir / "heal.db");
    RaiseBook book(store, "00000000000000000000000000000001");  // rebooted: runtime properties are gone
    CHECK(book.dropped_at_load() == 2);
    CHECK(book.all().empty());
    CHECK(store.raised_limits().empty());
}

TEST_CASE("a memory limit is not put back while the unit needs most of it", "[raise]") {
    heal::UnitRaise raise;
    raise.changes = {{"MemoryMax", 300 * MiB, 450 * MiB}};
    CHECK_FALSE(heal::restore_blocked(raise, 100 * MiB));
    CHECK_FALSE(heal::restore_blocked(raise, 269 * MiB));
    const auto blocked = heal::restore_blocked(raise, 270 * MiB);  // 90 % of 300M
    REQUIRE(blocked);
    CHECK(*blocked == "it uses 270M of the 300M MemoryMax it would go back to");
    CHECK(heal::restore_blocked(raise, std::nullopt) == "its memory in use is unknown, and MemoryMax would come back");

    heal::UnitRaise cpu_only;
    cpu_only.changes = {{"CPUQuotaPerSecUSec", 500000, 750000}};
    CHECK_FALSE(heal::restore_blocked(cpu_only, std::nullopt));  // a quota squeezes nothing out of memory
}
