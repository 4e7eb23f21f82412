// A fault-injection shim for Logbook's tests and for trying a build by hand (LD_PRELOAD).
//
// It makes the Nth write or sync call on a file under a chosen path fail, the way a failing disk
// or a full one does, and counts the calls it saw, so a test can try a fault at every point.
//
//   cc -shared -fPIC -O2 -o libfaults.so Tools/faults/faults.c -ldl
//   LD_PRELOAD=./libfaults.so LOGBOOK_FAULT_PATH=/srv/journal LOGBOOK_FAULT_AT=3 logbook append …
//
// Environment:
//   LOGBOOK_FAULT_PATH    only calls on files whose path begins with this count (required: without
//                         it the shim does nothing, so a stray preload cannot break a process)
//   LOGBOOK_FAULT_CALLS   which calls count: "sync" (fsync, fdatasync), "write" (write, pwrite,
//                         writev, pwritev and their 64-bit names) or "all" (the default)
//   LOGBOOK_FAULT_AT      the counted call that fails, from 1; 0 or unset: none (just count)
//   LOGBOOK_FAULT_ERRNO   EIO (the default), ENOSPC, EDQUOT or EFBIG
//   LOGBOOK_FAULT_STICKY  1: every counted call from the Nth on fails (a device that died), not
//                         just the Nth (a transient error)
//   LOGBOOK_FAULT_REPORT  a file the shim writes at exit: "calls=<counted> failed=<failed>"
//
// A failed write writes nothing; a failed sync syncs nothing (the data stays in the page cache,
// as after a real failed fsync whose pages the kernel has not dropped yet).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { KIND_SYNC = 1, KIND_WRITE = 2 };

static const char *prefix;
static size_t prefix_len;
static int counted_kinds = KIND_SYNC | KIND_WRITE;
static long fail_at;
static int fail_errno = EIO;
static int sticky;
static const char *report_path;
static atomic_long calls;
static atomic_long failures;

__attribute__((constructor)) static void configure(void) {
    prefix = getenv("LOGBOOK_FAULT_PATH");
    prefix_len = prefix ? strlen(prefix) : 0;
    const char *kinds = getenv("LOGBOOK_FAULT_CALLS");
    if (kinds && strcmp(kinds, "sync") == 0) counted_kinds = KIND_SYNC;
    if (kinds && strcmp(kinds, "write") == 0) counted_kinds = KIND_WRITE;
    const char *at = getenv("LOGBOOK_FAULT_AT");
    fail_at = at ? atol(at) : 0;
    const char *code = getenv("LOGBOOK_FAULT_ERRNO");
    if (code && strcmp(code, "ENOSPC") == 0) fail_errno = ENOSPC;
    if (code && strcmp(code, "EDQUOT") == 0) fail_errno = EDQUOT;
    if (code && strcmp(code, "EFBIG") == 0) fail_errno = EFBIG;
    const char *s = getenv("LOGBOOK_FAULT_STICKY");
    sticky = s && strcmp(s, "1") == 0;
    report_path = getenv("LOGBOOK_FAULT_REPORT");
}

__attribute__((destructor)) static void report(void) {
    if (!report_path || !prefix_len) return;
    // Not through the shim's own write: the report file is usually outside the counted path anyway.
    FILE *f = fopen(report_path, "w");
    if (!f) return;
    fprintf(f, "calls=%ld failed=%ld\n", atomic_load(&calls), atomic_load(&failures));
    fclose(f);
}

/// Whether this call on `fd` is the one (or, sticky, one of those) that must fail.
static int should_fail(int fd, enum kind kind) {
    if (!prefix_len || !(counted_kinds & kind)) return 0;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = 0;
    if (strncmp(target, prefix, prefix_len) != 0) return 0;
    long call = atomic_fetch_add(&calls, 1) + 1;
    if (fail_at <= 0 || (sticky ? call < fail_at : call != fail_at)) return 0;
    atomic_fetch_add(&failures, 1);
    errno = fail_errno;
    return 1;
}

typedef int (*sync_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);

/// The C library's own function of that name, found once.
#define REAL(name, type) static type real = NULL; if (!real) real = (type)dlsym(RTLD_NEXT, name)

int fsync(int fd) {
    REAL("fsync", sync_fn);
    return should_fail(fd, KIND_SYNC) ? -1 : real(fd);
}

int fdatasync(int fd) {
    REAL("fdatasync", sync_fn);
    return should_fail(fd, KIND_SYNC) ? -1 : real(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    REAL("write", write_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, buf, count);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    REAL("writev", writev_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL("pwrite", pwrite_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    REAL("pwrite64", pwrite_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, buf, count, offset);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL("pwritev", pwritev_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, iov, iovcnt, offset);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    REAL("pwritev64", pwritev_fn);
    return should_fail(fd, KIND_WRITE) ? -1 : real(fd, iov, iovcnt, offset);
}
