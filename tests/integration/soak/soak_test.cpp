// The kill -9 soak: healerd recovering (simulated) crashes and training is
// killed with SIGKILL at random moments, 50 times. After each kill the
// database passes PRAGMA integrity_check, every recovery healerd logged as
// started is in it, and the model file is absent, the old or the new one;
// after each restart no attempt is left running and no temporary model file
// survives. Label "soak". HEAL_SOAK_SEED=N repeats a run. Training runs
// 60 PPO iterations (about 0.4 s), so kills land before, during and after
// the model is saved.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "../environment.hpp"
#include "../healctl.hpp"
#include "rl/model_file.hpp"

using namespace heal::integration;
using namespace std::chrono_literals;

namespace {

constexpr int kKills = 50;

std::string soak_config() {
    return fmt::format(R"([Monitor]
SampleIntervalSec=100ms
Units={}

[Recovery]
AutoRecover=yes
RecoveryTimeoutSec=1s
CircuitBreakerIntervalSec=0
)",
                       kWatchedUnit);
}

std::size_t count_matches(const std::string& text, const std::regex& pattern) {
    return static_cast<std::size_t>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator()));
}

std::size_t temporaries(const std::filesystem::path& state) {
    std::size_t found = 0;
    for (const auto& entry : std::filesystem::directory_iterator(state))
        if (entry.path().filename().string().starts_with("policy.model.tmp-")) ++found;
    return found;
}

}  // namespace

TEST_CASE("healerd killed with SIGKILL 50 times loses no attempt and no integrity", "[soak]") {
    const char* seed_text = std::getenv("HEAL_SOAK_SEED");
    const std::uint64_t seed = seed_text ? std::strtoull(seed_text, nullptr, 10) : std::random_device{}();
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> delay_ms(150, 2500);
    std::bernoulli_distribution train(0.3);

    TempDir dir;
    PrivateBus bus(dir.path());
    std::filesystem::create_directories(dir.path() / "units.d");
    write_file(dir.path() / "units.d" / fmt::format("{}.conf", kWatchedUnit), "[Unit]\nAllowFaultInjection=yes\n");
    const std::filesystem::path state = dir.path() / "state";
    const std::filesystem::path database = state / "healerd.db";
    const std::filesystem::path model = state / "policy.model";
    const std::regex started("recovering demo\\.service with ");

    std::size_t logged_total = 0;
    long stored_total = 0;
    int trainings = 0;
    int models_seen = 0;
    std::size_t log_offset = 0;
    for (int kill = 0; kill < kKills; ++kill) {
        INFO("kill " << kill << ", HEAL_SOAK_SEED=" << seed);
        const long last_id = std::filesystem::exists(database) ? Database(database).integer("SELECT max(id) FROM actions") : 0;
        Healerd healerd(dir.path(), soak_config());
        // Start-up closed what the last kill left running, and cleaned up.
        CHECK(temporaries(state) == 0);
        if (kill > 0) CHECK(Database(database).integer("SELECT count(*) FROM actions WHERE phase = 'running'") == 0);

        std::optional<BackgroundProcess> trainer;
        if (train(rng)) {
            ++trainings;
            trainer.emplace(std::vector<std::string>{HEALCTL_PATH, "--user", "train", "--episodes", "60"},
                            dir.path() / "train.log");
        }
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng));
        while (std::chrono::steady_clock::now() < until) {
            healctl({"simulate-failure", "--kind", "crash", "--unit", kWatchedUnit});
            std::this_thread::sleep_for(100ms);
        }
        healerd.process().signal(SIGKILL);
        REQUIRE(healerd.process().wait(10s) == 128 + SIGKILL);

        Database db(database);  // the one healerd was killed over
        CHECK(db.text("PRAGMA integrity_check") == "ok");
        // The log file is appended to across restarts: this run's part.
        const std::string log = healerd.log();
        const std::size_t logged = count_matches(log.substr(std::min(log_offset, log.size())), started);
        log_offset = log.size();
        const long stored = db.integer(fmt::format("SELECT count(*) FROM actions WHERE id > {}", last_id));
        // Each attempt is stored before healerd logs it.
        CHECK(static_cast<long>(logged) <= stored);
        logged_total += logged;
        stored_total += stored;
        if (std::filesystem::exists(model)) {
            ++models_seen;
            CHECK_NOTHROW(heal::load_model(model));
        }
    }
    {
        Healerd healerd(dir.path(), soak_config());
        CHECK(temporaries(state) == 0);
    }
    Database db(database);
    const long interrupted = db.integer("SELECT count(*) FROM actions WHERE phase = 'interrupted'");
    WARN(fmt::format("soak: seed={} kills={} attempts_logged={} attempts_stored={} interrupted={} "
                     "trainings_started={} kills_with_a_model={}",
                     seed, kKills, logged_total, stored_total, interrupted, trainings, models_seen));
    CHECK(logged_total > 0);
    CHECK(db.integer("SELECT count(*) FROM actions WHERE phase = 'running'") == 0);
}
