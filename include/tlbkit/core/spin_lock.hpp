// A minimal spinlock for the freestanding core: std::atomic_flag, no OS, no
// heap. For short critical sections only (the ASID/VMID allocator's slow
// path); a kernel calls it with interrupts or preemption disabled, as Linux
// does with its raw spinlock around ASID rollover.
#pragma once

#include <atomic>

namespace tlbkit {

// Thread safety: lock()/unlock() may be called from any CPU; unlock() only
// by the holder. Not recursive, not fair.
class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  // Waits until the lock is free and takes it. Acquire: whatever the
  // previous holder wrote before unlock() is visible after lock().
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) {
      // Spin on a plain load so waiters share the line instead of
      // bouncing it with writes.
      while (flag_.test(std::memory_order_relaxed)) relax();
    }
  }

  // Releases the lock. Release: publishes the holder's writes.
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  static void relax() {
#if defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic_flag flag_;  // C++20: starts clear
};

// Holds a SpinLock for one scope. Thread safety: used by one thread.
class SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& lock) : lock_(lock) { lock_.lock(); }
  ~SpinLockGuard() { lock_.unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace tlbkit
