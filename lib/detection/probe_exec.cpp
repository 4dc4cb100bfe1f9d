// exec attempts: the command runs as a child in a process group of its own,
// watched through a pidfd on the loop (no SIGCHLD handling, which belongs to
// whoever owns the process). Success is exit status 0. At the timeout the
// whole group is killed; the result comes once the child is reaped, so no
// zombie outlives its attempt.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "detection/probe_attempt.hpp"

namespace heal {

namespace {

// Who the child becomes: resolved before fork, as the child may only make
// async-signal-safe calls (healerd has threads).
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

// `user`'s identity, or an error; nullopt identity = stay who we are.
std::optional<Identity> identity_of(const std::string& user, std::string& error) {
    if (user.empty() || geteuid() != 0) return std::nullopt;  // only root can change user
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    const int r = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (found == nullptr) {
        error = r == 0 ? fmt::format("no user '{}'", user)
                       : fmt::format("cannot look up user '{}': {}", user, std::strerror(r));
        return std::nullopt;
    }
    Identity identity{entry.pw_uid, entry.pw_gid, std::vector<gid_t>(64)};
    for (;;) {
        int count = static_cast<int>(identity.groups.size());
        if (getgrouplist(user.c_str(), entry.pw_gid, identity.groups.data(), &count) >= 0) {
            identity.groups.resize(static_cast<std::size_t>(count));
            return identity;
        }
        identity.groups.resize(static_cast<std::size_t>(count) * 2);
    }
}

// What the child reports through its close-on-exec pipe when it cannot
// exec: the step and its errno. Nothing arrives when exec succeeded.
struct ChildFailure {
    enum Step : int { become_user, exec } step;
    int error;
};

// The environment of a probe command: a plain PATH, not healerd's own
// (NOTIFY_SOCKET, credentials and the like are not the probe's business).
char* const kEnvironment[] = {const_cast<char*>("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                              nullptr};

[[noreturn]] void child_failed(int report_fd, ChildFailure::Step step) {
    const ChildFailure failure{step, errno};
    [[maybe_unused]] const ssize_t written = write(report_fd, &failure, sizeof failure);
    _exit(127);
}

[[noreturn]] void run_child(char* const argv[], const std::optional<Identity>& identity, int null_fd, int report_fd) {
    setpgid(0, 0);
    // A blocked or ignored signal would stay so across exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) sigaction(signal, &default_action, nullptr);
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // report_fd stays open until exec
    if (identity && (setgroups(identity->groups.size(), identity->groups.data()) != 0 ||
                     setgid(identity->gid) != 0 || setuid(identity->uid) != 0))
        child_failed(report_fd, ChildFailure::become_user);
    if (chdir("/") != 0) child_failed(report_fd, ChildFailure::exec);
    execve(argv[0], argv, kEnvironment);
    child_failed(report_fd, ChildFailure::exec);
}

class ExecAttempt final : public ProbeAttempt {
public:
    ExecAttempt(sd_event* event, const ProbeSpec& spec, Done done)
        : ProbeAttempt(event, spec.options.timeout, std::move(done)), spec_(spec) {
        if (const auto problem = spawn()) finish_soon(*problem);
    }

    ~ExecAttempt() override {
        sd_event_source_disable_unref(exit_source_);
        if (pid_ > 0) {
            // Cancelled while running: a SIGKILLed child ends at once, so
            // waiting for it here is short, and leaves no zombie behind.
            kill(-pid_, SIGKILL);
            siginfo_t info{};
            while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) < 0 && errno == EINTR) {
            }
        }
        if (pidfd_ >= 0) close(pidfd_);
        if (report_fd_ >= 0) close(report_fd_);
    }

private:
    std::optional<std::string> spawn() {
        std::string error;
        const std::optional<Identity> identity = identity_of(spec_.user, error);
        if (!error.empty()) return error;
        std::vector<char*> argv;
        for (const std::string& word : spec_.target.argv) argv.push_back(const_cast<char*>(word.c_str()));
        argv.push_back(nullptr);
        const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0) return fmt::format("cannot open /dev/null: {}", error_text(errno));
        int report[2];
        if (pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
            close(null_fd);
            return fmt::format("cannot make a pipe: {}", error_text(errno));
        }
        const pid_t pid = fork();
        if (pid == 0) run_child(argv.data(), identity, null_fd, report[1]);
        const int fork_error = errno;
        close(null_fd);
        close(report[1]);
        report_fd_ = report[0];
        if (pid < 0) return fmt::format("cannot fork: {}", error_text(fork_error));
        pid_ = pid;
        setpgid(pid_, pid_);  // as the child does: whichever runs first makes the group
        // The raw call: glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
        pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd_ < 0) return fmt::format("cannot watch the command: {}", error_text(errno));
        const int r = sd_event_add_io(event(), &exit_source_, pidfd_, EPOLLIN, &ExecAttempt::on_exit, this);
        if (r < 0) return fmt::format("cannot watch the command: {}", error_text(-r));
        return std::nullopt;
    }

    void on_timeout() override {
        timed_out_ = true;
        kill(-pid_, SIGKILL);  // the result comes when the child is reaped
    }

    static int on_exit(sd_event_source*, int, uint32_t, void* self) {
        static_cast<ExecAttempt*>(self)->reap();
        return 0;
    }

    void reap() {
        // What the command left running in its group goes too; until the
        // child is reaped its pid (the group's id) cannot be reused, so this
        // kills nothing but the probe's own processes.
        kill(-pid_, SIGKILL);
        siginfo_t info{};
        while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) < 0) {
            if (errno == EINTR) continue;
            pid_ = -1;
            return finish(false, fmt::format("cannot reap the command: {}", error_text(errno)));
        }
        pid_ = -1;
        ChildFailure failure{};
        if (read(report_fd_, &failure, sizeof failure) == sizeof failure)
            return finish(false, failure.step == ChildFailure::become_user
                                     ? fmt::format("cannot run as user '{}': {}", spec_.user, error_text(failure.error))
                                     : fmt::format("cannot run {}: {}", spec_.target.argv.front(),
                                                   error_text(failure.error)));
        if (timed_out_) return finish(false, "timed out");
        if (info.si_code == CLD_EXITED) {
            if (info.si_status == 0) return finish(true);
            return finish(false, fmt::format("exited with status {}", info.si_status));
        }
        const char* name = sigabbrev_np(info.si_status);
        finish(false, name ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", info.si_status));
    }

    ProbeSpec spec_;
    pid_t pid_ = -1;  // until reaped
    int pidfd_ = -1;
    int report_fd_ = -1;
    sd_event_source* exit_source_ = nullptr;
    bool timed_out_ = false;
};

}  // namespace

std::unique_ptr<ProbeAttempt> start_exec_attempt(sd_event* event, const ProbeSpec& spec, ProbeAttempt::Done done) {
    return std::make_unique<ExecAttempt>(event, spec, std::move(done));
}

}  // namespace heal
