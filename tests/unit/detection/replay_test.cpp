#include "detection/replay.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

using namespace heal;

namespace {

AdaptiveDetectorConfig replay_config() {
    AdaptiveDetectorConfig config;
    config.floor = 0.0;
    return config;
}

// 20 rows alternating 20/22, then three rows at 80, then one at 21.
std::string step_csv(const std::string& header, const std::string& eol) {
    std::string csv = header.empty() ? "" : header + eol;
    for (int i = 0; i < 20; ++i)
        csv += "2014-04-01 14:" + std::to_string(10 + i) + ":00," + (i % 2 ? "22" : "20") + eol;
    csv += eol;  // a blank line is ignored
    for (int i = 0; i < 3; ++i) csv += "2014-04-01 14:" + std::to_string(30 + i) + ":00, 80.5 " + eol;
    csv += "2014-04-01 14:40:00,21" + eol;
    return csv;
}

std::string replay_error(const std::string& csv) {
    std::istringstream in(csv);
    try {
        replay_csv(in, replay_config());
    } catch (const ReplayError& error) {
        return error.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("replay: a step is flagged on exactly its rows") {
    for (const std::string eol : {"\n", "\r\n"}) {
        for (const std::string header : {"timestamp,value", ""}) {
            std::istringstream in(step_csv(header, eol));
            const auto rows = replay_csv(in, replay_config());
            REQUIRE(rows.size() == 24);
            for (int i = 0; i < 20; ++i) CHECK_FALSE(rows[i].anomaly);
            for (int i = 20; i < 23; ++i) CHECK(rows[i].anomaly);
            CHECK_FALSE(rows[23].anomaly);
            CHECK(rows[0].timestamp == "2014-04-01 14:10:00");
            CHECK(rows[0].value == 20.0);
            CHECK(rows[20].value == 80.5);  // fields are trimmed
        }
    }
}

TEST_CASE("replay: the config's consecutive rule applies") {
    AdaptiveDetectorConfig config = replay_config();
    config.consecutive = 2;
    std::istringstream in(step_csv("timestamp,value", "\n"));
    const auto rows = replay_csv(in, config);
    CHECK_FALSE(rows[20].anomaly);
    CHECK(rows[21].anomaly);
    CHECK(rows[22].anomaly);
}

TEST_CASE("replay: an empty input gives no rows") {
    std::istringstream in("timestamp,value\n\n");
    CHECK(replay_csv(in, replay_config()).empty());
}

TEST_CASE("replay: bad rows name their line") {
    CHECK(replay_error("timestamp,value\n1,10\n2,abc\n") == "line 3: value \"abc\" is not a finite number");
    CHECK(replay_error("1,10\n\n2,nan\n") == "line 3: value \"nan\" is not a finite number");
    CHECK(replay_error("1,10\n2\n") == "line 2: expected 2 comma-separated fields (timestamp,value), got \"2\"");
    CHECK(replay_error("1,10\n2,3,4\n") ==
          "line 2: expected 2 comma-separated fields (timestamp,value), got \"2,3,4\"");
    CHECK(replay_error("1,10\n ,5\n") == "line 2: empty timestamp");
    CHECK(replay_error("1,10\n2,\n") == "line 2: value \"\" is not a finite number");
    // Only the first non-blank line may be a header.
    CHECK(replay_error("timestamp,value\nts,value\n") == "line 2: value \"value\" is not a finite number");
}

TEST_CASE("replay: only the column names timestamp,value make a header") {
    for (const std::string header : {"timestamp,value", " Timestamp , VALUE "}) {
        std::istringstream in("\n" + header + "\n1,10\n");
        CHECK(replay_csv(in, replay_config()).size() == 1);
    }
    // Anything else on the first line is a row, and a bad one is an error,
    // not silently taken for a header.
    CHECK(replay_error("2014-04-01 14:10:00,abc\n2014-04-01 14:11:00,10\n") ==
          "line 1: value \"abc\" is not a finite number, nor is the line the header timestamp,value");
    CHECK(replay_error("\ntime,value\n1,10\n") ==
          "line 2: value \"value\" is not a finite number, nor is the line the header timestamp,value");
    CHECK(replay_error("timestamp,value\n1,abc\n") == "line 2: value \"abc\" is not a finite number");
    std::istringstream numeric("timestamp,12\n1,10\n");
    CHECK(replay_csv(numeric, replay_config()).front().timestamp == "timestamp");
}

TEST_CASE("replay: a long bad value is quoted cut to 64 bytes, with its length") {
    const std::string huge(20'000'000, 'x');
    CHECK(replay_error("1,10\n2," + huge + "\n") ==
          "line 2: value \"" + std::string(64, 'x') + "…\" (20000000 bytes) is not a finite number");
    CHECK(replay_error("1,10\n" + huge + ",1,2\n") ==
          "line 2: expected 2 comma-separated fields (timestamp,value), got \"" + std::string(64, 'x') +
              "…\" (20000004 bytes)");
    // The cut never splits a UTF-8 character: "é" is bytes 63 and 64.
    const std::string accented = std::string(63, 'a') + "é" + std::string(10, 'a');
    CHECK(replay_error("1,10\n2," + accented + "\n") ==
          "line 2: value \"" + std::string(63, 'a') + "…\" (75 bytes) is not a finite number");
    const std::string exact(64, 'y');
    CHECK(replay_error("1,10\n2," + exact + "\n") == "line 2: value \"" + exact + "\" is not a finite number");
}

TEST_CASE("replay: an invalid config is refused") {
    AdaptiveDetectorConfig config;
    config.consecutive = 0;
    std::istringstream in("1,10\n");
    CHECK_THROWS_AS(replay_csv(in, config), std::invalid_argument);
}

TEST_CASE("replay: a header chooses the value column, as healctl metrics --format csv writes it") {
    const std::string exported =
        "timestamp,unit,cpu,memory,status\n"
        "2026-12-04T10:00:00.000Z,web.service,10,40,Healthy\n"
        "2026-12-04T10:00:01.000Z,web.service,12,41,Healthy\n";
    std::istringstream cpu(exported);
    const auto rows = replay_csv(cpu, replay_config(), "cpu");
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].timestamp == "2026-12-04T10:00:01.000Z");
    CHECK(rows[1].value == 12);
    std::istringstream memory(exported);
    CHECK(replay_csv(memory, replay_config(), "memory")[0].value == 40);

    std::istringstream no_header("1,10\n");
    CHECK_THROWS_WITH(replay_csv(no_header, replay_config(), "cpu"),
                      "line 1: no header naming the columns timestamp and cpu");
    std::istringstream short_row(exported + "2026-12-04T10:00:02.000Z,web.service,13\n");
    CHECK_THROWS_WITH(replay_csv(short_row, replay_config(), "cpu"),
                      "line 4: expected 5 comma-separated fields (timestamp,unit,cpu,memory,status), got "
                      "\"2026-12-04T10:00:02.000Z,web.service,13\"");
    // Two targets' samples interleaved are no one series.
    std::istringstream mixed(exported + "2026-12-04T10:00:01.000Z,,50,60,Healthy\n");
    CHECK_THROWS_WITH(replay_csv(mixed, replay_config(), "cpu"),
                      "line 4: unit \"\" after \"web.service\": a replay judges one target's rows "
                      "(healctl metrics --unit)");
}

TEST_CASE("replay: a long header is cut in errors like any echoed input") {
    const std::string header = "timestamp,value," + std::string(300, 'h');
    std::istringstream in(header + "\n1,2\n");
    CHECK_THROWS_WITH(replay_csv(in, replay_config()),
                      "line 2: expected 3 comma-separated fields (timestamp,value," + std::string(48, 'h') +
                          "…), got \"1,2\"");
}
