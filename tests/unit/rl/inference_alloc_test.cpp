// Inference (one state -> action probabilities) must not touch the heap: the
// daemon calls it on every detected failure. Nor should a PPO update once its
// buffers exist: it runs 160 minibatches per training episode. Every heap
// allocation in this test binary is counted, Eigen's and the standard
// library's alike.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "rl/failure_env.hpp"
#include "rl/incident_env.hpp"
#include "rl/model_file.hpp"
#include "rl/network.hpp"
#include "rl/ppo.hpp"
#include "rl/ppo_policy.hpp"
#include "rl/random.hpp"
#include "rl/trainer.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
void count_allocation() {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer owns malloc: count through its allocation hook.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, std::size_t),
                                                          void (*)(const volatile void*));
namespace {
void on_malloc(const volatile void*, std::size_t) { count_allocation(); }
void on_free(const volatile void*) {}
const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#else
// Replace glibc's malloc family with counting wrappers around its own entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t size) noexcept {
    count_allocation();
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
    count_allocation();
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
    count_allocation();
    return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
    count_allocation();
    return __libc_memalign(alignment, size);
}
void free(void* p) noexcept { __libc_free(p); }
}
#endif

using namespace heal;

namespace {

class AllocationCounter {
public:
    AllocationCounter() {
        g_allocations = 0;
        g_counting = true;
    }
    ~AllocationCounter() { g_counting = false; }
    long count() const { return g_allocations.load(); }
};

void escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

}  // namespace

TEST_CASE("the allocation counter sees malloc, new and Eigen") {
    AllocationCounter counter;
    void* p = std::malloc(64);
    escape(p);
    std::free(p);
    CHECK(counter.count() == 1);
    auto* q = new std::string(100, 'x');
    escape(q);
    delete q;
    CHECK(counter.count() >= 2);
    Eigen::VectorXf v(1000);
    escape(v.data());
    CHECK(counter.count() >= 3);
}

TEST_CASE("a loaded policy computes probabilities without allocating") {
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("heal-rl-alloc-" + std::to_string(::getpid()) + ".model");
    ActorCritic<float> net(NetworkShape{kObservationSize, {64, 64}, kActionCount});
    Rng rng(1);
    net.initialize(rng);
    save_model(file, net);
    const std::unique_ptr<Policy> policy = load_policy(file);
    std::filesystem::remove(file);

    Observation obs;
    obs.cpu_percent = 93;
    obs.memory_percent = 40;
    obs.failure_count = 2;
    obs.cpu_anomalous = true;
    float total = 0;
    {
        AllocationCounter counter;
        for (int i = 0; i < 100; ++i) {
            obs.memory_percent = i;
            const ActionProbabilities p = policy->probabilities(obs);
            total += p[0] + p[1] + p[2] + p[3];
            escape(&total);
            policy->choose(obs);
        }
        CHECK(counter.count() == 0);
    }
    CHECK(total == Approx(100.0f).epsilon(1e-4));
}

TEST_CASE("single-state network passes allocate nothing, even at the widest shape") {
    ActorCritic<float> net(NetworkShape{kMaxLayerWidth, std::vector<int>(kMaxHiddenLayers, kMaxLayerWidth), kMaxLayerWidth});
    net.parameters().setConstant(0.01f);
    std::vector<float> obs(kMaxLayerWidth, 0.5f);
    std::vector<float> logits(kMaxLayerWidth);
    AllocationCounter counter;
    net.logits(obs, logits);
    float v = net.value(obs);
    escape(&v);
    CHECK(counter.count() == 0);
}

TEST_CASE("a PPO update allocates nothing once its buffers exist") {
    IncidentEnvironment env(IncidentModel{}, 1);
    const PpoConfig config = recovery_ppo_config();
    PpoTrainer trainer(env, config, 1, 2 * static_cast<std::uint64_t>(config.n_steps));
    trainer.collect_rollout();
    trainer.update(config.learning_rate);  // sizes the buffers
    trainer.collect_rollout();
    AllocationCounter counter;
    LossTerms loss = trainer.update(config.learning_rate);
    escape(&loss);
    CHECK(counter.count() == 0);
}
