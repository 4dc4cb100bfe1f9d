#include "recovery/alert.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <thread>

#include "support/temp_dir.hpp"

using heal::Alert;
using heal::FailureKind;

namespace {

heal::GivenUp crash_loop_given_up() {
    return {42, "web.service", FailureKind::crash, 3, 1,
            "giving up on web.service after 3 attempt(s): 3 attempts without a durable recovery"};
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a given-up incident alerts the template's instance named by the incident", "[alert]") {
    const Alert alert = heal::give_up_alert("page-oncall@.service", crash_loop_given_up());
    CHECK(alert.unit == "page-oncall@42.service");
    CHECK(alert.instance == "42");
    using Pair = std::pair<std::string, std::string>;
    CHECK(alert.environment == std::vector<Pair>{
                                   {"HEALERD_EVENT", "given_up"},
                                   {"HEALERD_INCIDENT_ID", "42"},
                                   {"HEALERD_UNIT", "web.service"},
                                   {"HEALERD_FAILURE_KIND", "crash"},
                                   {"HEALERD_ATTEMPTS", "3"},
                                   {"HEALERD_RELAPSES", "1"},
                                   {"HEALERD_REASON", crash_loop_given_up().reason},
                               });

    heal::GivenUp unstored = crash_loop_given_up();
    unstored.incident_id = 0;
    unstored.unit = "";
    const Alert machine = heal::give_up_alert("page-oncall@.service", unstored);
    CHECK(machine.unit == "page-oncall@unstored.service");
    CHECK(machine.environment[2] == Pair{"HEALERD_UNIT", "machine"});
}

TEST_CASE("the alert's environment file quotes what systemd would split or unescape", "[alert]") {
    Alert alert;
    alert.environment = {{"A", "plain words"}, {"B", "say \"no\" to C:\\temp\nand $HOME"}};
    CHECK(heal::environment_file_text(alert) == "A=\"plain words\"\nB=\"say \\\"no\\\" to C:\\\\temp and $HOME\"\n");
}

TEST_CASE("alert environment files are written whole and only the newest are kept", "[alert]") {
    heal::test::TempDir dir;
    Alert alert = heal::give_up_alert("page-oncall@.service", crash_loop_given_up());
    heal::write_alert_environment(dir.root(), alert, 2);
    CHECK(read_file(dir / "alert-42.env") == heal::environment_file_text(alert));

    for (const std::string instance : {"43", "44"}) {
        // Distinct modification times, so that "oldest" means something.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        alert.instance = instance;
        heal::write_alert_environment(dir.root(), alert, 2);
    }
    std::ofstream(dir / "unrelated.conf") << "x";
    CHECK_FALSE(std::filesystem::exists(dir / "alert-42.env"));
    CHECK(std::filesystem::exists(dir / "alert-43.env"));
    CHECK(std::filesystem::exists(dir / "alert-44.env"));
    CHECK(std::filesystem::exists(dir / "unrelated.conf"));
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.root())) ++files;
    CHECK(files == 3);  // no partial file left behind
}

TEST_CASE("an alert that cannot be written names the file", "[alert]") {
    heal::test::TempDir dir;
    const Alert alert = heal::give_up_alert("page-oncall@.service", crash_loop_given_up());
    CHECK_THROWS_WITH(heal::write_alert_environment(dir / "missing", alert),
                      Catch::Contains((dir / "missing" / ".alert-42.env.partial").string()));
}
