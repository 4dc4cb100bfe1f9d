#pragma once
// Child processes for the integration tests: run-to-completion with captured
// output, and background processes that are always stopped.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace heal::integration {

struct RunResult {
    int exit_code = -1;  // 128 + signal when killed by one
    std::string out;
    std::string err;
    std::string describe() const;  // for failure messages
};

// Runs argv to completion with the current environment, feeding `input` to its
// standard input. Killed (and reported as exit 137) after `timeout`.
RunResult run(const std::vector<std::string>& argv, const std::string& input = {},
              std::chrono::seconds timeout = std::chrono::seconds(120));

// A process running in the background with stdout and stderr in `log`.
// The destructor stops it: SIGTERM, then SIGKILL after a grace period.
class BackgroundProcess {
public:
    BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
    ~BackgroundProcess();
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    bool running();
    pid_t pid() const { return pid_; }
    void signal(int signo);
    // Waits for the process to exit by itself; its exit code, or -1 on timeout.
    int wait(std::chrono::milliseconds timeout);
    // SIGTERM, then SIGKILL after `grace`; returns the exit code.
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
    std::string log_text() const;

private:
    pid_t pid_ = -1;
    int status_ = -1;  // exit code once reaped
    std::filesystem::path log_;
};

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace heal::integration
