// The generators' random numbers: SplitMix64 (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", 2014), written out here
// so that a seed gives the same trace with every compiler and standard
// library (the std:: distributions differ between them).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tlbkit::gen {

class Sequence {
 public:
  explicit Sequence(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += 0x9e37'79b9'7f4a'7c15;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11eb;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n). Precondition: n > 0. (By modulo: the bias, below
  // n / 2^64, does not matter to a workload.)
  std::uint64_t below(std::uint64_t n) { return next() % n; }

  // Uniform in [low, high]. Precondition: low <= high.
  std::uint64_t between(std::uint64_t low, std::uint64_t high) { return low + below(high - low + 1); }

  // True with probability `percent` / 100.
  bool percent(unsigned percent) { return below(100) < percent; }

  // Puts `items` in a random order (Fisher-Yates).
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace tlbkit::gen
