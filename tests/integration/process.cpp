#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace heal::integration {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const auto& arg : argv) out.push_back(const_cast<char*>(arg.c_str()));
    out.push_back(nullptr);
    return out;
}

int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// posix_spawn with the given file actions; throws when the program cannot start.
pid_t spawn(const std::vector<std::string>& argv, const posix_spawn_file_actions_t* actions) {
    pid_t pid = -1;
    auto args = c_argv(argv);
    const int r = posix_spawn(&pid, args[0], actions, nullptr, args.data(), environ);
    if (r != 0) {
        errno = r;
        fail(fmt::format("cannot start {}", argv[0]));
    }
    return pid;
}

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (pipe2(fd, O_CLOEXEC) != 0) fail("pipe2");
    }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0) close(f);
    }
    void close_end(int end) {
        close(fd[end]);
        fd[end] = -1;
    }
};

}  // namespace

std::string RunResult::describe() const {
    return fmt::format("exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}", exit_code, out, err);
}

RunResult run(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds timeout) {
    Pipe in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], STDERR_FILENO);
    const pid_t pid = spawn(argv, &actions);
    posix_spawn_file_actions_destroy(&actions);
    in.close_end(0);
    out.close_end(1);
    err.close_end(1);

    // The inputs used here are small; a pipe buffer holds them.
    if (!input.empty() && write(in.fd[1], input.data(), input.size()) != static_cast<ssize_t>(input.size()))
        fail("writing a child's standard input");
    in.close_end(1);

    RunResult result;
    const auto deadline = Clock::now() + timeout;
    bool killed = false;
    std::string* sinks[2] = {&result.out, &result.err};
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 && !killed) {
            kill(pid, SIGKILL);
            killed = true;
        }
        if (poll(fds, 2, killed ? 1000 : static_cast<int>(left.count())) < 0 && errno != EINTR) fail("poll");
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buffer[4096];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) sinks[i]->append(buffer, static_cast<std::size_t>(n));
            else fds[i].fd = -1;
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail("waitpid");
    result.exit_code = exit_code(status);
    if (killed) result.err += fmt::format("\n[killed after {} s]", timeout.count());
    return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log)
    : log_(log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_ = spawn(argv, &actions);
    posix_spawn_file_actions_destroy(&actions);
}

BackgroundProcess::~BackgroundProcess() {
    if (pid_ > 0) stop();
}

bool BackgroundProcess::running() { return wait(std::chrono::milliseconds(0)) == -1; }

void BackgroundProcess::signal(int signo) {
    if (pid_ > 0) kill(pid_, signo);
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (pid_ > 0) {
        int status = 0;
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = exit_code(status);
            pid_ = -1;
            break;
        }
        if (r < 0 && errno != EINTR) fail("waitpid");
        if (Clock::now() >= deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status_;
}

int BackgroundProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    if (wait(grace) != -1) return status_;
    kill(pid_, SIGKILL);
    return wait(std::chrono::milliseconds(10000));
}

std::string BackgroundProcess::log_text() const { return read_file(log_); }

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/heal-integration.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(pattern.data())) fail("mkdtemp");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

}  // namespace heal::integration
