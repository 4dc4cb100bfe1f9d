#pragma once
// Hands work from worker threads (recoveries, training, fault injection) to
// the event loop thread, which alone touches the bus and the database: tasks
// are queued under a lock and an eventfd wakes the loop to run them.
#include <deque>
#include <functional>
#include <mutex>

#include <systemd/sd-event.h>

namespace healerd {

class LoopQueue {
public:
    // Throws std::system_error when the eventfd or its event source cannot be made.
    explicit LoopQueue(sd_event* event);
    ~LoopQueue();
    LoopQueue(const LoopQueue&) = delete;
    LoopQueue& operator=(const LoopQueue&) = delete;

    // Any thread. The task runs on the loop thread, in posting order.
    void post(std::function<void()> task);
    // Loop thread: runs every queued task now (also at shutdown, after the
    // loop has stopped).
    void drain();

private:
    static int on_ready(sd_event_source* source, int fd, uint32_t revents, void* self);

    int fd_ = -1;
    sd_event_source* source_ = nullptr;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
};

}  // namespace healerd
