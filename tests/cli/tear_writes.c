// An LD_PRELOAD library for the crash tests of tests/cli/test_store.py: it
// kills the process in the middle of a chosen write(2) or pwrite(2), as a
// SIGKILL, a node failure or a pre-emption can.
//
//   COOPSWEEP_TEAR_SUFFIX  writes to files whose path ends with this are counted
//                          (".partial", ".partial.journal", ".finishing")
//   COOPSWEEP_TEAR_AT      on the N-th counted write (from 1), write only the
//                          first half of its bytes, then SIGKILL the process
//   COOPSWEEP_TEAR_COUNT   instead, append the number of counted writes to
//                          this file when the process exits
//   COOPSWEEP_TEAR_ERRNO   with COOPSWEEP_TEAR_AT: instead of tearing, fail the
//                          N-th counted write and every later one with this
//                          errno (5 EIO, 30 EROFS), writing nothing: a disk
//                          that goes bad or read-only under a running sweep
//
// Only the counting is added to a write: the bytes written are the program's.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);

static atomic_long counted;
static const char* suffix;
static long tear_at;
static const char* count_file;
static int fail_errno;

static void report_count(void) {
  if (count_file == NULL) return;
  FILE* out = fopen(count_file, "a");
  if (out == NULL) return;
  fprintf(out, "%ld\n", atomic_load(&counted));
  fclose(out);
}

__attribute__((constructor)) static void configure(void) {
  suffix = getenv("COOPSWEEP_TEAR_SUFFIX");
  const char* at = getenv("COOPSWEEP_TEAR_AT");
  tear_at = at != NULL ? atol(at) : 0;
  count_file = getenv("COOPSWEEP_TEAR_COUNT");
  const char* failure = getenv("COOPSWEEP_TEAR_ERRNO");
  fail_errno = failure != NULL ? atoi(failure) : 0;
  if (count_file != NULL) atexit(report_count);
}

// 0: not counted; 1: counted, write it; 2: the write to tear; 3: a write to fail.
static int classify(int fd) {
  if (suffix == NULL || fd < 0) return 0;
  char link[64];
  char target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  const size_t length = strlen(suffix);
  if ((size_t)n < length || strcmp(target + n - length, suffix) != 0) return 0;
  const long index = atomic_fetch_add(&counted, 1) + 1;
  if (tear_at > 0 && fail_errno > 0) return index >= tear_at ? 3 : 1;
  return tear_at > 0 && index == tear_at ? 2 : 1;
}

static void die(void) {
  raise(SIGKILL);
  _exit(137);
}

ssize_t write(int fd, const void* buffer, size_t count) {
  static write_fn real;
  if (real == NULL) real = (write_fn)dlsym(RTLD_NEXT, "write");
  const int what = classify(fd);
  if (what == 3) {
    errno = fail_errno;
    return -1;
  }
  if (what == 2) {
    real(fd, buffer, count / 2);
    die();
  }
  return real(fd, buffer, count);
}

static ssize_t torn_pwrite(const char* name, int fd, const void* buffer, size_t count, off_t offset) {
  pwrite_fn real = (pwrite_fn)dlsym(RTLD_NEXT, name);
  const int what = classify(fd);
  if (what == 3) {
    errno = fail_errno;
    return -1;
  }
  if (what == 2) {
    real(fd, buffer, count / 2, offset);
    die();
  }
  return real(fd, buffer, count, offset);
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  return torn_pwrite("pwrite", fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t count, off_t offset) {
  return torn_pwrite("pwrite64", fd, buffer, count, offset);
}
