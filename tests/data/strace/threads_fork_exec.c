// The program whose strace log is threads_fork_exec.log.gz (see
// tests/data/README.md): threads calling every memory call, a failing
// mmap, huge-page and MADV_FREE advice, brk, fork, vfork + execve,
// posix_spawn, and an execve from a thread that is not the leader.
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *worker(void *arg) {
  long n = (long)arg;
  for (int i = 0; i < 20; i++) {
    size_t len = 4096 * (size_t)(1 + (i + n) % 8);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 1, len);
    mprotect(p, 4096, PROT_READ);
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    madvise(p, len, MADV_DONTNEED);
    p = mremap(p, len, len * 2, MREMAP_MAYMOVE);
    munmap(p, len * 2);
  }
  return NULL;
}

static void *exec_from_thread(void *arg) {
  (void)arg;
  char *argv[] = {"true", NULL};
  execve("/nonexistent", argv, environ);
  execve("/bin/true", argv, environ);
  return NULL;
}

static void *sleeper(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) {  // the second run: a thread that is not the leader execs
    pthread_t s, t;
    pthread_create(&s, NULL, sleeper, NULL);
    pthread_create(&t, NULL, exec_from_thread, NULL);
    pthread_join(t, NULL);
    return 1;
  }
  pthread_t t[3];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  (void)mmap(NULL, 1UL << 50, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // fails: ENOMEM
  char *h = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  madvise(h, 4 << 20, MADV_HUGEPAGE);
  madvise(h, 4 << 20, MADV_FREE);
  char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  mlock(s, 4096);
  munlock(s, 4096);
  sbrk(65536);
  sbrk(-65536);
  pid_t c = fork();
  if (c == 0) {
    char *q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(q, 4096);
    _exit(3);
  }
  pid_t v = vfork();
  if (v == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  pid_t sp;
  char *spawn_argv[] = {"true", NULL};
  posix_spawn(&sp, "/bin/true", NULL, NULL, spawn_argv, environ);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  waitpid(c, NULL, 0);
  waitpid(v, NULL, 0);
  waitpid(sp, NULL, 0);
  pid_t e = fork();
  if (e == 0) {
    execl("/proc/self/exe", "again", "exec-from-thread", (char *)NULL);
    _exit(127);
  }
  waitpid(e, NULL, 0);
  pthread_create(&t[0], NULL, worker, (void *)7);
  return 0;  // exit_group while the last worker runs
}
