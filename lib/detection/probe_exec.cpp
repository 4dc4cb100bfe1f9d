// exec attempts: the command runs as a child in a process group of its own,
// watched through a pidfd on the loop (no SIGCHLD handling, which belongs to
// whoever owns the process). Success is exit status 0. At the timeout the
// whole group is killed; the result comes once the child is reaped, so no
// zombie outlives its attempt.
//
// The child is made as posix_spawn makes one, with clone(CLONE_VM |
// CLONE_VFORK): it borrows healerd's memory until it execs, while healerd
// waits. A fork would copy healerd's page tables and make every page it
// writes afterwards a copy-on-write fault, most of what a probe every few
// seconds cost. posix_spawn itself cannot change user, hence clone.
#include <fcntl.h>
#include <sched.h>
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

// Who the child becomes: resolved before the clone, as the child may only
// make async-signal-safe calls (healerd has threads).
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

// What the child needs, on healerd's memory (shared until exec).
struct ChildPlan {
    char* const* argv;
    const std::optional<Identity>* identity;
    int null_fd;
    int report_fd;
};

// Raw system calls for the identity: glibc's wrappers would signal every
// thread of healerd (to change them all), whose memory the child shares.
bool become(const Identity& identity) {
    return syscall(SYS_setgroups, identity.groups.size(), identity.groups.data()) == 0 &&
           syscall(SYS_setgid, identity.gid) == 0 && syscall(SYS_setuid, identity.uid) == 0;
}

int run_child(void* argument) {
    const ChildPlan& plan = *static_cast<const ChildPlan*>(argument);
    const int report_fd = plan.report_fd;
    setpgid(0, 0);
    // Handlers first, then the mask healerd blocked for the clone: no
    // healerd handler may run on the shared memory. A blocked or ignored
    // signal would stay so across exec.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) sigaction(signal, &default_action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(plan.null_fd, STDIN_FILENO);
    dup2(plan.null_fd, STDOUT_FILENO);
    dup2(plan.null_fd, STDERR_FILENO);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // report_fd stays open until exec
    if (*plan.identity && !become(**plan.identity)) child_failed(report_fd, ChildFailure::become_user);
    if (chdir("/") != 0) child_failed(report_fd, ChildFailure::exec);
    execve(plan.argv[0], plan.argv, kEnvironment);
    child_failed(report_fd, ChildFailure::exec);
}

// The child's own stack while it borrows healerd's memory: it runs only
// run_child, which needs little.
constexpr std::size_t kChildStackBytes = 64 * 1024;

// Starts run_child(plan) as a new process and returns its pid once it has
// exec'd or failed (CLONE_VFORK), or -1 with errno.
pid_t spawn_child(ChildPlan& plan) {
    std::vector<unsigned char> stack(kChildStackBytes);
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    // The stack grows down on every architecture healerd builds for.
    const pid_t pid = clone(run_child, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
    const int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    errno = clone_error;
    return pid;
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
        ChildPlan plan{argv.data(), &identity, null_fd, report[1]};
        const pid_t pid = spawn_child(plan);
        const int spawn_error = errno;
        close(null_fd);
        close(report[1]);
        report_fd_ = report[0];
        if (pid < 0) return fmt::format("cannot start a process: {}", error_text(spawn_error));
        pid_ = pid;  // and its process group's id: the child made the group before it exec'd
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
