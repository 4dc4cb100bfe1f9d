#include "loop_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace healerd {

LoopQueue::LoopQueue(sd_event* event) {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    const int r = sd_event_add_io(event, &source_, fd_, EPOLLIN, &LoopQueue::on_ready, this);
    if (r < 0) {
        close(fd_);
        throw std::system_error(-r, std::generic_category(), "sd_event_add_io");
    }
}

LoopQueue::~LoopQueue() {
    sd_event_source_disable_unref(source_);
    close(fd_);
}

void LoopQueue::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    const std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop is awake anyway.
    [[maybe_unused]] const ssize_t written = write(fd_, &one, sizeof one);
}

void LoopQueue::drain() {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t consumed = read(fd_, &count, sizeof count);
    for (;;) {
        std::function<void()> task;
        {
            std::lock_guard lock(mutex_);
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

int LoopQueue::on_ready(sd_event_source*, int, uint32_t, void* self) {
    static_cast<LoopQueue*>(self)->drain();
    return 0;
}

}  // namespace healerd
