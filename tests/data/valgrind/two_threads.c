/* A tests/data/valgrind fixture (see tests/data/README.md): two threads
   writing their own pages of one mapping, for
   valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes. */
#include <pthread.h>
#include <sys/mman.h>

static char *buf;

static void *worker(void *arg) {
  long id = (long)arg;
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < 4; i++) buf[(id * 4 + i) * 4096] += (char)r;
  return 0;
}

int main(void) {
  buf = mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) return 1;
  pthread_t t[2];
  for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, worker, (void *)(i + 1));
  for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
  munmap(buf, 16 * 4096);
  return 0;
}
