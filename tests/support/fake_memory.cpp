#include "support/fake_memory.hpp"

#include <cstdio>

namespace tlbkit::test {
namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e37'79b9'7f4a'7c15;
  x = (x ^ (x >> 30)) * 0xbf58'476d'1ce4'e5b9;
  x = (x ^ (x >> 27)) * 0x94d0'49bb'1331'11eb;
  return x ^ (x >> 31);
}

}  // namespace

Descriptor FakeMemory::garbage(PhysAddr page, unsigned index) {
  return splitmix(page * 4099 + index) | 1u;
}

Result<PhysAddr> FakeMemory::allocate(unsigned pages) {
  if (pages == 0 || pages > kMaxPages || (pages & (pages - 1)) != 0) {
    errors_.push_back("allocate(" + std::to_string(pages) +
                      "): page count must be a power of two from 1 to 16");
    ++failed_allocations_;
    return Error{Errc::no_memory, "fake memory: bad page count"};
  }
  if (successes_left_) {
    if (*successes_left_ == 0) {
      ++failed_allocations_;
      return Error{Errc::no_memory, "fake memory: injected allocation failure"};
    }
    --*successes_left_;
  }
  const std::uint64_t bytes = pages * kPageSize;
  const PhysAddr base = (next_ + bytes - 1) & ~(bytes - 1);
  // Leave an unallocated page after every allocation, so that "the next page"
  // of a table is never another table.
  next_ = base + bytes + kPageSize;
  Allocation& a = live_[base];
  a.pages = pages;
  a.words.resize(static_cast<std::size_t>(pages + 1) * kEntries);
  for (unsigned p = 0; p < pages; ++p) {
    for (unsigned i = 0; i < kEntries; ++i) {
      a.words[p * kEntries + i] = garbage(base + p * kPageSize, i);
    }
  }
  for (unsigned i = 0; i < kEntries; ++i) a.words[pages * kEntries + i] = kGuardWord;
  ++allocations_;
  return base;
}

void FakeMemory::free(PhysAddr table, unsigned pages) {
  auto it = live_.find(table);
  if (it == live_.end()) {
    if (freed_bases_.count(table) != 0) {
      errors_.push_back("double free of table page " + hex(table));
    } else {
      errors_.push_back("free of a page that was never allocated: " + hex(table));
    }
    return;
  }
  if (it->second.pages != pages) {
    errors_.push_back("free(" + hex(table) + ", " + std::to_string(pages) +
                      ") of an allocation of " + std::to_string(it->second.pages) + " pages");
  }
  for (unsigned i = 0; i < kEntries; ++i) {
    if (it->second.words[it->second.pages * kEntries + i] != kGuardWord) {
      errors_.push_back("write past the end of allocation " + hex(table) + " (guard page)");
      break;
    }
  }
  live_.erase(it);
  freed_bases_.insert(table);
  freed_log_.push_back(table);
  ++frees_;
}

const FakeMemory::Allocation* FakeMemory::find(PhysAddr page, std::size_t* offset) const {
  if (page % kPageSize != 0) return nullptr;
  auto it = live_.upper_bound(page);
  if (it == live_.begin()) return nullptr;
  --it;
  const PhysAddr base = it->first;
  if (page >= base + it->second.pages * kPageSize) return nullptr;
  *offset = static_cast<std::size_t>((page - base) / kPageSize) * kEntries;
  return &it->second;
}

Descriptor* FakeMemory::descriptors(PhysAddr table) {
  std::size_t offset = 0;
  const Allocation* a = find(table, &offset);
  if (a == nullptr) {
    errors_.push_back("descriptors(" + hex(table) + "): not a live table page");
    for (unsigned i = 0; i < kEntries; ++i) scratch_[i] = garbage(table, i);
    return scratch_.data();
  }
  return const_cast<Allocation*>(a)->words.data() + offset;
}

const Descriptor* FakeMemory::peek(PhysAddr page) const {
  std::size_t offset = 0;
  const Allocation* a = find(page, &offset);
  return a == nullptr ? nullptr : a->words.data() + offset;
}

std::optional<unsigned> FakeMemory::allocation_pages(PhysAddr base) const {
  auto it = live_.find(base);
  if (it == live_.end()) return std::nullopt;
  return it->second.pages;
}

std::set<PhysAddr> FakeMemory::live_pages() const {
  std::set<PhysAddr> pages;
  for (const auto& [base, a] : live_) {
    for (unsigned p = 0; p < a.pages; ++p) pages.insert(base + p * kPageSize);
  }
  return pages;
}

std::uint64_t FakeMemory::live_page_count() const {
  std::uint64_t n = 0;
  for (const auto& entry : live_) n += entry.second.pages;
  return n;
}

std::uint64_t FakeMemory::contents_hash() const {
  std::uint64_t h = 0xcbf2'9ce4'8422'2325;
  for (const auto& [base, a] : live_) {
    h = splitmix(h ^ base) ^ a.pages;
    for (const Descriptor w : a.words) h = (h ^ w) * 0x1000'0000'01b3;
  }
  return h;
}

std::vector<std::string> FakeMemory::problems() const {
  std::vector<std::string> out = errors_;
  for (const auto& [base, a] : live_) {
    for (unsigned i = 0; i < kEntries; ++i) {
      if (a.words[a.pages * kEntries + i] != kGuardWord) {
        out.push_back("write past the end of allocation " + hex(base) + " (guard page)");
        break;
      }
    }
  }
  return out;
}

}  // namespace tlbkit::test
