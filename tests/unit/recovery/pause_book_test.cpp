#include "recovery/pause_book.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using heal::PauseBook;
using heal::PauseRecord;
using heal::Store;

namespace {

const heal::TimePoint kT0 = heal::TimePoint(std::chrono::seconds(1'800'000'000));

PauseRecord pause_of(const std::string& unit, std::optional<heal::TimePoint> until, std::uint32_t uid = 0) {
    return PauseRecord{unit, kT0, until, uid};
}

}  // namespace

TEST_CASE("a pause holds until resumed, or until its end", "[pause]") {
    heal::test::TempDir dir;
    Store store(dir / "heal.db");
    PauseBook book(store);
    book.pause(pause_of("web.service", std::nullopt));
    book.pause(pause_of("db.service", kT0 + 120s));
    book.pause(pause_of("", kT0 + 60s));  // the machine

    CHECK(book.paused("web.service", kT0 + 24h));
    CHECK(book.paused("db.service", kT0 + 119s));
    CHECK_FALSE(book.paused("db.service", kT0 + 120s));
    CHECK_FALSE(book.paused("cache.service", kT0));
    CHECK(book.paused("", kT0));

    const auto ended = book.expire(kT0 + 90s);
    REQUIRE(ended.size() == 1);
    CHECK(ended[0].unit.empty());
    CHECK(book.find("") == nullptr);
    CHECK(book.find("db.service") != nullptr);

    CHECK(book.resume("web.service"));
    CHECK_FALSE(book.resume("web.service"));
    CHECK_FALSE(book.paused("web.service", kT0));
}

TEST_CASE("pauses survive a restart: a new book reads them from the store", "[pause]") {
    heal::test::TempDir dir;
    {
        Store store(dir / "heal.db");
        PauseBook book(store);
        book.pause(pause_of("web.service", kT0 + 120s, 1000));
        book.pause(pause_of("db.service", std::nullopt));
        book.pause(pause_of("db.service", kT0 + 30s));  // replaces the first
        book.pause(pause_of("old.service", kT0 + 10s));
        book.expire(kT0 + 20s);
        book.pause(pause_of("gone.service", std::nullopt));
        book.resume("gone.service");
    }
    Store store(dir / "heal.db");
    PauseBook book(store);
    REQUIRE(book.all().size() == 2);
    const PauseRecord* web = book.find("web.service");
    REQUIRE(web != nullptr);
    CHECK(web->since == kT0);
    CHECK(web->until == kT0 + 120s);
    CHECK(web->paused_by == 1000);
    const PauseRecord* db = book.find("db.service");
    REQUIRE(db != nullptr);
    CHECK(db->until == kT0 + 30s);
    CHECK(book.find("old.service") == nullptr);
    CHECK(book.find("gone.service") == nullptr);
}
