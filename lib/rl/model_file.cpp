#include "rl/model_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace heal {
namespace {

constexpr std::string_view kMagic{"HEALPPO\0", 8};
constexpr std::uintmax_t kMaxFileSize = 64u << 20;  // far above any sane shape; refuses absurd files early

std::uint64_t fnv1a(std::span<const std::uint8_t> bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (std::uint8_t b : bytes) hash = (hash ^ b) * 0x100000001b3ULL;
    return hash;
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& problem) {
    throw ModelError(fmt::format("model file {}: {}", path.string(), problem));
}

class Writer {
public:
    void u32(std::uint32_t v) { little_endian(v, 4); }
    void u64(std::uint64_t v) { little_endian(v, 8); }
    void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
    void raw(std::string_view s) { bytes_.insert(bytes_.end(), s.begin(), s.end()); }
    const std::vector<std::uint8_t>& bytes() const { return bytes_; }

private:
    void little_endian(std::uint64_t v, int size) {
        for (int i = 0; i < size; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    std::vector<std::uint8_t> bytes_;
};

class Reader {
public:
    Reader(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) : path_(path), bytes_(bytes) {}
    std::uint32_t u32() { return static_cast<std::uint32_t>(little_endian(4)); }
    std::uint64_t u64() { return little_endian(8); }
    float f32() { return std::bit_cast<float>(u32()); }
    std::string_view raw(std::size_t size) {
        need(size);
        std::string_view s(reinterpret_cast<const char*>(bytes_.data() + offset_), size);
        offset_ += size;
        return s;
    }
    std::size_t offset() const { return offset_; }
    void need(std::size_t size) const {
        if (bytes_.size() - offset_ < size)
            fail(path_, fmt::format("truncated at byte {} (needed {} more bytes at offset {})", bytes_.size(), size,
                                    offset_));
    }

private:
    std::uint64_t little_endian(int size) {
        need(static_cast<std::size_t>(size));
        std::uint64_t v = 0;
        for (int i = 0; i < size; ++i) v |= static_cast<std::uint64_t>(bytes_[offset_++]) << (8 * i);
        return v;
    }
    const std::filesystem::path& path_;
    std::span<const std::uint8_t> bytes_;
    std::size_t offset_ = 0;
};

std::vector<std::uint8_t> serialise(const ActorCritic<float>& network, std::string_view provenance) {
    const NetworkShape& shape = network.shape();
    Writer w;
    w.raw(kMagic);
    w.u32(kModelFormatVersion);
    w.u32(static_cast<std::uint32_t>(shape.inputs));
    w.u32(static_cast<std::uint32_t>(shape.actions));
    w.u32(static_cast<std::uint32_t>(shape.hidden.size()));
    for (int width : shape.hidden) w.u32(static_cast<std::uint32_t>(width));
    w.u64(static_cast<std::uint64_t>(network.parameters().size()));
    for (float p : network.parameters()) w.f32(p);
    w.u32(static_cast<std::uint32_t>(provenance.size()));
    w.raw(provenance);
    w.u64(fnv1a(w.bytes()));
    return w.bytes();
}

// Empty when the model may be written or used; otherwise why not.
std::string model_problem(const ActorCritic<float>& network) {
    if (std::string problem = parameter_problem(network); !problem.empty()) return problem;
    return probe_problem(network);
}

// fmt writes a NaN with its sign bit ("-nan"), which only distracts.
std::string number(float v) { return std::isnan(v) ? "nan" : fmt::format("{:g}", v); }

std::vector<std::vector<float>> probe_observations(int inputs) {
    const auto size = static_cast<std::size_t>(inputs);
    std::vector<std::vector<float>> probes;
    for (float level : {0.0f, 0.5f, 1.0f}) probes.emplace_back(size, level);
    for (std::size_t i = 0; i < size; ++i) {
        probes.emplace_back(size, 0.0f)[i] = 1.0f;
        probes.emplace_back(size, 1.0f)[i] = 0.0f;
    }
    return probes;
}

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, "cannot write: " + errno_text());
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

// Closes the descriptor and removes the temporary file unless committed.
class TempFile {
public:
    explicit TempFile(const std::filesystem::path& target) : path_(target.string() + ".tmp-XXXXXX") {
        std::string pattern = path_.string();
        fd_ = ::mkstemp(pattern.data());
        if (fd_ < 0) fail(target, "cannot create a temporary file next to it: " + errno_text());
        path_ = pattern;
    }
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return fd_; }
    const std::filesystem::path& path() const { return path_; }
    void close_checked(const std::filesystem::path& target) {
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) fail(target, "cannot close the temporary file: " + errno_text());
    }
    void committed() { committed_ = true; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool committed_ = false;
};

void fsync_directory(const std::filesystem::path& dir, const std::filesystem::path& target) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail(target, "cannot open its directory to sync it: " + errno_text());
    const int rc = ::fsync(fd);
    const std::string error = errno_text();
    ::close(fd);
    if (rc != 0) fail(target, "cannot sync its directory: " + error);
}

}  // namespace

std::string parameter_problem(const ActorCritic<float>& network) {
    const auto& parameters = network.parameters();
    for (const auto& [mlp, layers] : {std::pair{"actor", &network.actor_layers()},
                                      std::pair{"critic", &network.critic_layers()}}) {
        for (std::size_t l = 0; l < layers->size(); ++l) {
            const DenseLayer& layer = (*layers)[l];
            const auto rows = static_cast<std::size_t>(layer.rows);
            const std::size_t weights = rows * static_cast<std::size_t>(layer.cols);
            for (std::size_t i = layer.weights; i < layer.bias + rows; ++i) {
                const float p = parameters(static_cast<Eigen::Index>(i));
                if (std::isfinite(p) && std::fabs(p) <= kMaxModelParameter) continue;
                return fmt::format("{} {} {} at layer {} (parameter {}) {}", mlp,
                                   i < layer.weights + weights ? "weight" : "bias", number(p), l + 1, i,
                                   std::isfinite(p) ? fmt::format("is beyond the bound {:.0e}", kMaxModelParameter)
                                                    : std::string("is not finite"));
            }
        }
    }
    return {};
}

std::string probe_problem(const ActorCritic<float>& network) {
    std::vector<float> probabilities(static_cast<std::size_t>(network.shape().actions));
    for (const std::vector<float>& probe : probe_observations(network.shape().inputs)) {
        const auto fault = [&](const std::string& what) {
            return fmt::format("the forward pass on probe observation [{}] gives {}", fmt::join(probe, ", "), what);
        };
        network.logits(probe, probabilities);
        softmax(probabilities);
        float sum = 0.0f;
        for (std::size_t a = 0; a < probabilities.size(); ++a) {
            const float p = probabilities[a];
            if (!(p >= 0.0f && p <= 1.0f)) return fault(fmt::format("probability {} for action {}", number(p), a));
            sum += p;
        }
        if (std::fabs(sum - 1.0f) > 1e-4f) return fault(fmt::format("probabilities summing to {}", number(sum)));
        if (const float value = network.value(probe); !std::isfinite(value))
            return fault("value " + number(value));
    }
    return {};
}

void save_model(const std::filesystem::path& path, const ActorCritic<float>& network, std::string_view provenance) {
    if (path.empty()) throw ModelError("model file: no path given");
    if (const std::string problem = model_problem(network); !problem.empty())
        fail(path, "refusing to save: " + problem);
    if (provenance.size() > kMaxProvenanceBytes)
        fail(path, fmt::format("refusing to save: a provenance of {} bytes (at most {})", provenance.size(),
                               kMaxProvenanceBytes));
    const std::vector<std::uint8_t> bytes = serialise(network, provenance);
    TempFile temp(path);
    write_all(temp.fd(), bytes, path);
    if (::fchmod(temp.fd(), 0644) != 0) fail(path, "cannot set permissions: " + errno_text());
    if (::fsync(temp.fd()) != 0) fail(path, "cannot sync: " + errno_text());
    temp.close_checked(path);
    if (::rename(temp.path().c_str(), path.c_str()) != 0) fail(path, "cannot rename the temporary file: " + errno_text());
    temp.committed();
    fsync_directory(path.parent_path(), path);
}

ActorCritic<float> load_model(const std::filesystem::path& path) { return load_model_file(path).network; }

ModelFile load_model_file(const std::filesystem::path& path) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) fail(path, "cannot read: " + ec.message());
    if (size > kMaxFileSize) fail(path, fmt::format("{} bytes is too large for a model", size));
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
        fail(path, fmt::format("cannot read its {} bytes", bytes.size()));

    Reader r(path, bytes);
    if (r.raw(kMagic.size()) != kMagic) fail(path, "not a healerd policy model (bad magic)");
    const std::uint32_t version = r.u32();
    // Format 1 has the same layout, but its networks read the 7 features
    // before the incident ones: say so rather than just "unsupported".
    if (version == 1)
        fail(path, fmt::format("model was trained for {} inputs (format 1); this healerd needs {} (format {}); "
                               "retrain with healctl train",
                               r.u32(), kObservationSize, kModelFormatVersion));
    if (version != 2 && version != kModelFormatVersion)
        fail(path, fmt::format("format version {} unsupported (this healerd reads version {})", version,
                               kModelFormatVersion));
    NetworkShape shape;
    shape.inputs = static_cast<int>(r.u32());
    shape.actions = static_cast<int>(r.u32());
    const std::uint32_t layers = r.u32();
    if (layers == 0 || layers > static_cast<std::uint32_t>(kMaxHiddenLayers))
        fail(path, fmt::format("corrupt header: {} hidden layers (expected 1..{})", layers, kMaxHiddenLayers));
    shape.hidden.resize(layers);
    for (int& width : shape.hidden) width = static_cast<int>(r.u32());
    if (const std::string problem = shape_problem(shape); !problem.empty()) fail(path, "corrupt header: " + problem);
    const std::uint64_t count = r.u64();
    if (count != shape.parameter_count())
        fail(path, fmt::format("corrupt header: {} parameters stored, shape {} has {}", count, describe(shape),
                               shape.parameter_count()));

    ActorCritic<float> network(shape);
    r.need(count * sizeof(float) + sizeof(std::uint64_t));
    for (float& p : network.parameters()) p = r.f32();
    std::string provenance;
    if (version >= 3) {
        const std::uint32_t length = r.u32();
        if (length > kMaxProvenanceBytes)
            fail(path, fmt::format("corrupt provenance: {} bytes (at most {})", length, kMaxProvenanceBytes));
        provenance = r.raw(length);
        r.need(sizeof(std::uint64_t));
    }
    const std::size_t hashed = r.offset();
    const std::uint64_t stored = r.u64();
    if (r.offset() != bytes.size())
        fail(path, fmt::format("{} unexpected bytes after the checksum", bytes.size() - r.offset()));
    if (const std::uint64_t computed = fnv1a(std::span(bytes).first(hashed)); computed != stored)
        fail(path, fmt::format("checksum mismatch (stored {:016x}, computed {:016x})", stored, computed));
    if (const std::string problem = model_problem(network); !problem.empty()) fail(path, problem);
    return {std::move(network), std::move(provenance)};
}

std::size_t remove_orphan_temporaries(const std::filesystem::path& path) {
    const std::string prefix = path.filename().string() + ".tmp-";
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::error_code error;
    std::size_t removed = 0;
    for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        // mkstemp's suffix: exactly six characters after the prefix.
        if (name.size() != prefix.size() + 6 || !name.starts_with(prefix)) continue;
        std::error_code ignored;
        if (!it->is_regular_file(ignored) || it->is_symlink(ignored)) continue;
        if (std::filesystem::remove(it->path(), ignored)) ++removed;
    }
    return removed;
}

}  // namespace heal
