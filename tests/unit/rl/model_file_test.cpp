#include <catch2/catch.hpp>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
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

// Rewrites parameter `index` of a saved model and recomputes the FNV-1a
// checksum, as a file written by something other than save_model could be.
void rehash(std::vector<char>& bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i + 8 < bytes.size(); ++i)
        hash = (hash ^ static_cast<std::uint8_t>(bytes[i])) * 0x100000001b3ULL;
    for (std::size_t i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>(hash >> (8 * i));
}

void patch_parameter(std::vector<char>& bytes, const NetworkShape& shape, std::size_t index, float value) {
    const std::size_t header = 8 + 4 * 4 + 4 * shape.hidden.size() + 8;
    const auto raw = std::bit_cast<std::uint32_t>(value);
    for (std::size_t i = 0; i < 4; ++i) bytes[header + 4 * index + i] = static_cast<char>(raw >> (8 * i));
    rehash(bytes);
}

// A probe observation as probe_problem prints it: every feature at `level`.
std::string probe(const std::string& level) {
    std::string text = "[" + level;
    for (int i = 1; i < kObservationSize; ++i) text += ", " + level;
    return text + "]";
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
    const NetworkShape shape = load_model(good).shape();

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
    SECTION("a format-1 model, trained before the incident features") {
        std::vector<char> old = bytes;
        old[8] = 1;
        old[12] = 7;  // its inputs
        write_bytes(bad, old);
        CHECK_THAT(load_error(bad), Catch::Contains(bad.string()) &&
                                        Catch::Contains("model was trained for 7 inputs (format 1); this healerd "
                                                        "needs 15 (format 3); retrain with healctl train"));
    }
    SECTION("trailing bytes") {
        std::vector<char> longer = bytes;
        longer.push_back(0);
        write_bytes(bad, longer);
        CHECK_THAT(load_error(bad), Catch::Contains("1 unexpected bytes"));
    }
    SECTION("a well-formed model of another shape") {
        save_model(bad, network(4, 2, 1));
        CHECK_THAT(load_error(bad), Catch::Contains("shape mismatch: expected 15 inputs and 4 actions, got 4 inputs "
                                                    "and 2 actions"));
    }
    SECTION("a weight beyond the bound, with a valid checksum") {
        // The issue's case: 3.4e38 is finite, but every probability came out NaN.
        std::vector<char> patched = bytes;
        patch_parameter(patched, shape, 0, 3.4e38f);
        write_bytes(bad, patched);
        CHECK_THAT(load_error(bad), Catch::Contains(bad.string()) &&
                                        Catch::Contains("actor weight 3.4e+38 at layer 1 (parameter 0) is beyond "
                                                        "the bound 1e+04"));
    }
    SECTION("a NaN bias of the value head, with a valid checksum") {
        const std::size_t last_bias = shape.parameter_count() - 1;
        std::vector<char> patched = bytes;
        patch_parameter(patched, shape, last_bias, std::numeric_limits<float>::quiet_NaN());
        write_bytes(bad, patched);
        CHECK_THAT(load_error(bad), Catch::Contains("critic bias nan at layer 3 (parameter " +
                                                    std::to_string(last_bias) + ") is not finite"));
    }
    SECTION("a weight at the bound still loads") {
        std::vector<char> patched = bytes;
        patch_parameter(patched, shape, 0, -kMaxModelParameter);
        write_bytes(bad, patched);
        CHECK(load_model(bad).parameters()(0) == -kMaxModelParameter);
    }
    SECTION("a missing file") {
        CHECK_THAT(load_error(dir.root() / "absent.model"), Catch::Contains("absent.model") && Catch::Contains("cannot read"));
    }
    // Whatever failed to load, the policy already in use is untouched.
    CHECK(policy->probabilities(Observation{}) == before);
}

TEST_CASE("a network with unbounded weights is never saved, and the model in place is kept") {
    TempDir dir;
    const fs::path file = dir.root() / "policy.model";
    const ActorCritic<float> good = network(kObservationSize, kActionCount, 1);
    save_model(file, good);
    ActorCritic<float> bad = network(kObservationSize, kActionCount, 2);
    bad.parameters()(3) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(save_model(file, bad), Catch::Contains(file.string()) &&
                                                 Catch::Contains("refusing to save: actor weight inf at layer 1 "
                                                                 "(parameter 3) is not finite"));
    CHECK(load_model(file).parameters() == good.parameters());
    CHECK(std::distance(fs::directory_iterator(dir.root()), fs::directory_iterator()) == 1);
}

TEST_CASE("the probe forward pass refuses a network whose outputs are not finite") {
    ActorCritic<float> net = network(kObservationSize, kActionCount, 1);
    CHECK(parameter_problem(net).empty());
    CHECK(probe_problem(net).empty());

    SECTION("huge policy weights: the logits overflow and the probabilities are NaN") {
        // Every hidden unit times 3.4e38 in the first logit: it overflows on a
        // probe whose last hidden units do not cancel out (at the all-zero
        // probe they are all 0).
        const DenseLayer& output = net.actor_layers().back();
        for (int c = 0; c < output.cols; ++c)
            net.parameters()(static_cast<Eigen::Index>(output.weights) + c * output.rows) = 3.4e38f;
        CHECK_THAT(probe_problem(net), Catch::StartsWith("the forward pass on probe observation [") &&
                                           Catch::EndsWith("] gives probability nan for action 0"));
    }
    SECTION("a NaN in the value head alone") {
        net.parameters()(static_cast<Eigen::Index>(net.critic_layers().back().bias)) =
            std::numeric_limits<float>::quiet_NaN();
        CHECK(probe_problem(net) == "the forward pass on probe observation " + probe("0") + " gives value nan");
    }
    SECTION("a fault that only a non-zero feature reaches") {
        const auto weight = [&](const DenseLayer& layer, int row, int col) -> float& {
            return net.parameters()(static_cast<Eigen::Index>(layer.weights) + col * layer.rows + row);
        };
        const auto only = [&](const DenseLayer& layer, int row, int col, float value) {
            for (int c = 0; c < layer.cols; ++c) weight(layer, row, c) = c == col ? value : 0.0f;
        };
        // Hidden units that are exactly 0 unless feature 6 (unit down) is set,
        // and two output weights that then add up to an infinite logit.
        const auto& actor = net.actor_layers();
        only(actor[0], 0, 5, 10.0f);
        only(actor[1], 0, 0, 10.0f);
        only(actor[1], 1, 0, 10.0f);
        weight(actor[2], 0, 0) = weight(actor[2], 0, 1) = 3.4e38f;
        CHECK(parameter_problem(net) != "");
        CHECK_THAT(probe_problem(net), Catch::StartsWith("the forward pass on probe observation " + probe("0.5") +
                                                         " gives probability nan"));
    }
}

TEST_CASE("saving into a missing directory fails cleanly") {
    TempDir dir;
    const fs::path file = dir.root() / "missing" / "policy.model";
    CHECK_THROWS_AS(save_model(file, network(kObservationSize, kActionCount, 1)), ModelError);
    CHECK_THROWS_WITH(save_model(file, network(kObservationSize, kActionCount, 1)), Catch::Contains(file.string()));
}

TEST_CASE("temporaries left by a killed save are removed, nothing else", "[model]") {
    heal::test::TempDir dir;
    const std::filesystem::path model = dir / "policy.model";
    const auto touch = [](const std::filesystem::path& file) { std::ofstream(file) << "x"; };
    touch(model);
    touch(dir / "policy.model.tmp-a1B2c3");
    touch(dir / "policy.model.tmp-ZZZZZZ");
    touch(dir / "policy.model.tmp-short");  // not mkstemp's six characters
    touch(dir / "other.model.tmp-a1B2c3");
    std::filesystem::create_directory(dir / "policy.model.tmp-dir123");
    CHECK(heal::remove_orphan_temporaries(model) == 2);
    CHECK(std::filesystem::exists(model));
    CHECK_FALSE(std::filesystem::exists(dir / "policy.model.tmp-a1B2c3"));
    CHECK(std::filesystem::exists(dir / "policy.model.tmp-short"));
    CHECK(std::filesystem::exists(dir / "other.model.tmp-a1B2c3"));
    CHECK(std::filesystem::exists(dir / "policy.model.tmp-dir123"));
    CHECK(heal::remove_orphan_temporaries(model) == 0);
}

TEST_CASE("model file: the provenance round-trips, and a format-2 file loads without one") {
    TempDir dir;
    const fs::path path = dir.root() / "fleet.model";
    const std::string provenance = R"({"hosts":["web-1","web-2"],"incidents":12})";
    save_model(path, network(kObservationSize, kActionCount, 3), provenance);
    const ModelFile loaded = load_model_file(path);
    CHECK(loaded.provenance == provenance);

    // Format 2: the same bytes without the provenance's length, version 2.
    std::vector<char> bytes = read_bytes(path);
    const std::size_t length_at = bytes.size() - 8 - provenance.size() - 4;
    bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(length_at), bytes.end() - 8);
    bytes[8] = 2;
    rehash(bytes);
    write_bytes(path, bytes);
    const ModelFile old = load_model_file(path);
    CHECK(old.provenance.empty());
    CHECK(old.network.parameters() == loaded.network.parameters());

    CHECK_THROWS_WITH(save_model(path, loaded.network, std::string(kMaxProvenanceBytes + 1, 'x')),
                      Catch::Contains("refusing to save: a provenance of 65537 bytes (at most 65536)"));
    CHECK(load_model_file(path).provenance.empty());  // the file in place is kept
}
