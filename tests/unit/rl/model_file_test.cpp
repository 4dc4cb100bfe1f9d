#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "rl/model_file.hpp"
#include "rl/random.hpp"
#include "rl/trainer.hpp"

using namespace heal;
using heal::test::TempDir;
namespace fs = std::filesystem;

namespace {


ActorCritic<float> network(int inputs, int actions, std::uint64_t seed) {
    ActorCritic<float> net(NetworkShape{inputs, {16, 8}, actions});
    Rng rng(seed);
    net.initialize(rng);
    return net;
}

std::vector<char> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string load_error(const fs::path& p) {
    try {
        load_policy(p);
    } catch (const ModelError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("a saved model loads back identical, and saving leaves no temporary file") {
    TempDir dir;
    const fs::path file = dir.root() / "policy.model";
    const ActorCritic<float> net = network(kObservationSize, kActionCount, 1);
    save_model(file, net);
    const ActorCritic<float> loaded = load_model(file);
    CHECK(loaded.shape() == net.shape());
    CHECK(loaded.parameters() == net.parameters());
    CHECK(std::distance(fs::directory_iterator(dir.root()), fs::directory_iterator()) == 1);

    // Saving again replaces the model.
    const ActorCritic<float> other = network(kObservationSize, kActionCount, 2);
    save_model(file, other);
    CHECK(load_model(file).parameters() == other.parameters());

    const auto policy = load_policy(file);
    CHECK(policy->name() == "ppo");
}

TEST_CASE("a damaged model file is refused with the file and the problem named") {
    TempDir dir;
    const fs::path good = dir.root() / "good.model";
    save_model(good, network(kObservationSize, kActionCount, 1));
    const std::vector<char> bytes = read_bytes(good);
    const fs::path bad = dir.root() / "bad.model";
    const auto policy = load_policy(good);
    const ActionProbabilities before = policy->probabilities(Observation{});

    SECTION("truncated anywhere") {
        for (std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{20}, std::size_t{60}, bytes.size() - 1}) {
            write_bytes(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size)));
            const std::string error = load_error(bad);
            INFO(error);
            CHECK(error.find(bad.string()) != std::string::npos);
            CHECK(error.find("truncated at byte " + std::to_string(size)) != std::string::npos);
        }
    }
    SECTION("a flipped byte in the weights") {
        std::vector<char> flipped = bytes;
        flipped[bytes.size() / 2] ^= 0x10;
        write_bytes(bad, flipped);
        CHECK_THAT(load_error(bad), Catch::Contains("checksum mismatch") && Catch::Contains(bad.string()));
    }
    SECTION("a flipped byte in the checksum") {
        std::vector<char> flipped = bytes;
        flipped.back() ^= 0x01;
        write_bytes(bad, flipped);
        CHECK_THAT(load_error(bad), Catch::Contains("checksum mismatch"));
    }
    SECTION("wrong magic") {
        std::vector<char> other = bytes;
        other[0] = 'X';
        write_bytes(bad, other);
        CHECK_THAT(load_error(bad), Catch::Contains("bad magic"));
    }
    SECTION("another format version") {
        std::vector<char> other = bytes;
        other[8] = 7;  // the u32 after the 8-byte magic
        write_bytes(bad, other);
        CHECK_THAT(load_error(bad), Catch::Contains("version 7 unsupported"));
    }
    SECTION("trailing bytes") {
        std::vector<char> longer = bytes;
        longer.push_back(0);
        write_bytes(bad, longer);
        CHECK_THAT(load_error(bad), Catch::Contains("1 unexpected bytes"));
    }
    SECTION("a well-formed model of another shape") {
        save_model(bad, network(4, 2, 1));
        CHECK_THAT(load_error(bad), Catch::Contains("shape mismatch: expected 7 inputs and 4 actions, got 4 inputs "
                                                    "and 2 actions"));
    }
    SECTION("a missing file") {
        CHECK_THAT(load_error(dir.root() / "absent.model"), Catch::Contains("absent.model") && Catch::Contains("cannot read"));
    }
    // Whatever failed to load, the policy already in use is untouched.
    CHECK(policy->probabilities(Observation{}) == before);
}

TEST_CASE("saving into a missing directory fails cleanly") {
    TempDir dir;
    const fs::path file = dir.root() / "missing" / "policy.model";
    CHECK_THROWS_AS(save_model(file, network(kObservationSize, kActionCount, 1)), ModelError);
    CHECK_THROWS_WITH(save_model(file, network(kObservationSize, kActionCount, 1)), Catch::Contains(file.string()));
}
