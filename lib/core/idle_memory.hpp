#pragma once
// Gives back memory healerd touched once and no longer needs: the heap's free
// tail, and the pages of its binary and libraries mapped while starting,
// reloading or training. A long-running daemon's RSS then shows what its
// loop uses, not the peak of its start.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace heal {

struct AddressRange {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
};

// The mappings of a /proc/PID/smaps text whose pages can all be read again
// from their file: private, not writable, file-backed, with no page of their
// own (Anonymous: 0, so no relocation or debugger breakpoint lives there).
std::vector<AddressRange> clean_file_mappings(std::string_view smaps);

struct ReleasedMemory {
    bool done = false;  // false: another thread ran, nothing was touched
    std::size_t mappings = 0;
    std::size_t bytes = 0;  // the ranges' size, mapped or not
};

// Trims the heap and unmaps the pages of this process's clean file mappings
// (MADV_DONTNEED); the next access maps them again from the page cache.
// Does nothing while the process has another thread: one could unmap a range
// and map something else there between reading smaps and the madvise, and
// that mapping's content would be lost. Only the caller's thread starts
// threads, so none can appear meanwhile.
ReleasedMemory release_idle_memory();

// The "Threads:" count of a /proc/PID/status text; 0 when missing.
unsigned thread_count(std::string_view status);

}  // namespace heal
