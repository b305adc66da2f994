/* A tests/data/valgrind fixture (see tests/data/README.md): memory system
   calls and page touches of one thread, for
   valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  /* 5 pages and 100 bytes: the kernel maps 6 pages. */
  char *p = mmap(0, 5 * 4096 + 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  for (int i = 0; i < 6; i++) p[i * 4096] = (char)i;
  volatile char c = p[3 * 4096 + 7];
  (void)c;
  mprotect(p + 4096, 4096, PROT_READ);
  madvise(p + 2 * 4096, 4096, MADV_DONTNEED);
  madvise(p + 3 * 4096, 4096, MADV_FREE);
  madvise(p + 3 * 4096, 4096, MADV_WILLNEED); /* no memory effect */
  munmap(p, 6 * 4096);
  char *r = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r[0] = 1;
  char *q = mremap(r, 2 * 4096, 8 * 4096, MREMAP_MAYMOVE);
  if (q == MAP_FAILED) return 2;
  q[7 * 4096] = 1;
  q = mremap(q, 8 * 4096, 3 * 4096, 0);
  char *f = mmap((void *)0x10000000, 4096, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
  volatile char d = f[10];
  (void)d;
  void *bad = mmap(0, 4096, PROT_READ, MAP_PRIVATE, 99, 0); /* fails: EBADF */
  (void)bad;
  munmap(f, 4096);
  munmap(q, 3 * 4096);
  char *b = sbrk(0);
  if (brk(b + 8192) == 0) {
    b[4100] = 3;
    brk(b);
  }
  return 0;
}
