/* A small service with a realistic memory shape, for record-traces.sh:
 *   steady    a 24 MiB working set, part of it read every tick, and a 2 MiB
 *             buffer allocated and freed per tick (a request handler);
 *   sawtooth  grows ~100 MiB over 30 s, then frees it all at once (a GC'd heap);
 *   cache     fills 192 MiB at 16 MiB/s, then stays there, read at random.
 * Fault: while LEAK_FILE holds a rate R (MiB/s) it also leaks R MiB/s,
 * touched so it is resident, until its RSS reaches CEILING MiB; then it
 * creates FULL_FILE and keeps what it leaked (the unit is restarted to end it).
 * usage: record-traces-memapp MODE LEAK_FILE FULL_FILE CEILING_MIB */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024L * 1024L)
#define TICK_NS 100000000L /* 10 ticks a second */
#define MAX_CHUNKS 4096

static char *chunks[MAX_CHUNKS];
static size_t chunk_sizes[MAX_CHUNKS];
static int chunk_count;

/* mmap, not malloc: freed memory goes back to the kernel at once, which is the
 * drop a sawtooth shows; malloc may keep it. */
static char *grab(size_t bytes) {
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    memset(p, 0x5a, bytes); /* resident, not just reserved */
    return p;
}

static void keep(size_t bytes) {
    if (chunk_count == MAX_CHUNKS) return;
    chunk_sizes[chunk_count] = bytes;
    chunks[chunk_count++] = grab(bytes);
}

static void drop_all(void) {
    for (int i = 0; i < chunk_count; i++) munmap(chunks[i], chunk_sizes[i]);
    chunk_count = 0;
}

static long rss_mib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE) / MIB;
}

static long leak_rate(const char *path) {
    long rate = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    if (fscanf(f, "%ld", &rate) != 1) rate = 0;
    fclose(f);
    return rate;
}

/* Reads `bytes` of `p` at a random offset: the CPU a lookup costs. */
static unsigned long touch(const char *p, size_t size, size_t bytes) {
    unsigned long sum = 0;
    size_t start = size > bytes ? (size_t)rand() % (size - bytes) : 0;
    for (size_t i = start; i < start + bytes && i < size; i += 64) sum += (unsigned char)p[i];
    return sum;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: record-traces-memapp steady|sawtooth|cache LEAK_FILE FULL_FILE CEILING_MIB\n");
        return 2;
    }
    const char *mode = argv[1], *leak_file = argv[2], *full_file = argv[3];
    const long ceiling = atol(argv[4]);
    const size_t base_size = 24 * MIB;
    char *base = grab(base_size);
    volatile unsigned long sink = 0;
    long tick = 0;
    int full = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;; tick++) {
        if (strcmp(mode, "steady") == 0) {
            char *request = grab(2 * MIB);
            sink += touch(base, base_size, 4 * MIB) + touch(request, 2 * MIB, 2 * MIB);
            munmap(request, 2 * MIB);
        } else if (strcmp(mode, "sawtooth") == 0) {
            if (tick % 300 == 299) {
                for (int i = 0; i < chunk_count; i++) sink += touch(chunks[i], chunk_sizes[i], chunk_sizes[i]);
                drop_all(); /* the collection */
            } else {
                keep(100 * MIB / 300);
            }
            sink += touch(base, base_size, MIB);
        } else if (strcmp(mode, "cache") == 0) {
            if ((long)chunk_count * 16 * MIB / 10 < 192 * MIB) keep(16 * MIB / 10);
            for (int i = 0; i < 8 && chunk_count > 0; i++) {
                int c = rand() % chunk_count;
                sink += touch(chunks[c], chunk_sizes[c], 64 * 1024);
            }
        } else {
            fprintf(stderr, "record-traces-memapp: unknown mode %s\n", mode);
            return 2;
        }
        const long rate = leak_rate(leak_file);
        if (rate > 0 && !full) {
            if (rss_mib() >= ceiling) {
                full = 1;
                FILE *f = fopen(full_file, "w");
                if (f != NULL) fclose(f);
            } else {
                grab((size_t)rate * MIB / 10); /* leaked: never freed */
            }
        }
        next.tv_nsec += TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
}
