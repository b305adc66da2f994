# The program whose strace log is python_threads_subprocess.log.gz (see
# tests/data/README.md): four threads mapping and unmapping anonymous
# shared memory while the main thread runs /bin/true (vfork + execve).
import mmap, subprocess, threading
def work(n):
    for i in range(30):
        m = mmap.mmap(-1, 4096 * (1 + (i + n) % 16))
        m[0:1] = b"x"
        m.close()
ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in ts: t.start()
subprocess.run(["/bin/true"])
for t in ts: t.join()
