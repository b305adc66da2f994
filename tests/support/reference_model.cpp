#include "support/reference_model.hpp"

namespace tlbkit::test {

std::string ErrcSet::to_string() const {
  std::string out = "{";
  for (unsigned c = 0; c <= static_cast<unsigned>(Errc::no_memory); ++c) {
    if (contains(static_cast<Errc>(c))) {
      if (out.size() > 1) out += ", ";
      out += errc_name(static_cast<Errc>(c));
    }
  }
  return out + "}";
}

ErrcSet ReferenceModel::range_errors(VirtAddr va, std::uint64_t size) const {
  ErrcSet e;
  if (va % kPage != 0 || size % kPage != 0 || size == 0) e.add(Errc::misaligned);
  if (va >= input_size() || size > input_size() - va) e.add(Errc::out_of_range);
  return e;
}

bool ReferenceModel::any_mapped(VirtAddr va, std::uint64_t size) const {
  const VirtAddr end = va + size;
  auto it = extents_.upper_bound(va);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.size > va) return true;
  }
  return it != extents_.end() && it->first < end;
}

void ReferenceModel::cut(VirtAddr va) {
  auto it = extents_.upper_bound(va);
  if (it == extents_.begin()) return;
  --it;
  const VirtAddr start = it->first;
  Extent& e = it->second;
  if (va <= start || va >= start + e.size) return;
  const std::uint64_t head = va - start;
  Extent tail{e.size - head, e.pa + head, e.attributes};
  e.size = head;
  extents_.emplace(va, tail);
}

ErrcSet ReferenceModel::map(VirtAddr va, PhysAddr pa, std::uint64_t size,
                            const ModelAttributes& attributes) {
  ErrcSet e = range_errors(va, size);
  if (pa % kPage != 0) e.add(Errc::misaligned);
  const std::uint64_t pa_limit = std::uint64_t{1} << config_.output_bits;
  if (pa >= pa_limit || size > pa_limit - pa) e.add(Errc::out_of_range);
  if (attributes.regime != config_.regime || !attributes.encodable ||
      (attributes.bits & ~config_.attribute_mask) != 0) {
    e.add(Errc::invalid_argument);
  }
  if ((attributes.bits & config_.contiguous_bit) != 0) e.add(Errc::unsupported);
  if (!e.empty()) return e;
  if (any_mapped(va, size)) return ErrcSet{Errc::overlap};
  extents_.emplace(va, Extent{size, pa, attributes.bits});
  return {};
}

ErrcSet ReferenceModel::unmap(VirtAddr va, std::uint64_t size) {
  ErrcSet e = range_errors(va, size);
  if (!e.empty()) return e;
  cut(va);
  cut(va + size);
  extents_.erase(extents_.lower_bound(va), extents_.lower_bound(va + size));
  return {};
}

ErrcSet ReferenceModel::protect(VirtAddr va, std::uint64_t size, Descriptor clear, Descriptor set) {
  ErrcSet e = range_errors(va, size);
  if (((clear | set) & ~config_.attribute_mask) != 0) e.add(Errc::invalid_argument);
  if ((set & config_.contiguous_bit) != 0) e.add(Errc::unsupported);
  if (!e.empty()) return e;
  cut(va);
  cut(va + size);
  for (auto it = extents_.lower_bound(va); it != extents_.end() && it->first < va + size; ++it) {
    it->second.attributes = (it->second.attributes & ~clear) | set;
  }
  return {};
}

ErrcSet ReferenceModel::split(VirtAddr va, std::uint64_t size, unsigned level) {
  ErrcSet e = range_errors(va, size);
  if (level < 1 || level > 3) e.add(Errc::invalid_argument);
  return e;
}

ErrcSet ReferenceModel::promote_arguments(VirtAddr va, unsigned level) const {
  ErrcSet e;
  if (va >= input_size()) e.add(Errc::out_of_range);
  if (level != 1 && level != 2) e.add(Errc::unsupported);
  return e;
}

ReferenceModel::Uniformity ReferenceModel::uniformity(VirtAddr va, std::uint64_t size) const {
  if (!any_mapped(va, size)) return Uniformity::empty;
  const std::optional<Page> first = lookup(va);
  if (!first || first->pa % size != 0) return Uniformity::non_uniform;
  // Walk the extents over the range: no hole, one output offset, one set of
  // attributes.
  VirtAddr at = va;
  auto it = extents_.upper_bound(va);
  --it;  // the extent containing va exists (lookup succeeded)
  for (; it != extents_.end() && at < va + size; ++it) {
    const VirtAddr start = it->first;
    if (start > at) return Uniformity::non_uniform;  // a hole
    if (it->second.pa - start != first->pa - va) return Uniformity::non_uniform;
    if (it->second.attributes != first->attributes) return Uniformity::non_uniform;
    at = start + it->second.size;
  }
  return at >= va + size ? Uniformity::uniform : Uniformity::non_uniform;
}

std::optional<ReferenceModel::Page> ReferenceModel::lookup(VirtAddr va) const {
  auto it = extents_.upper_bound(va);
  if (it == extents_.begin()) return std::nullopt;
  --it;
  if (va >= it->first + it->second.size) return std::nullopt;
  const std::uint64_t page_offset = (va - it->first) & ~(kPage - 1);
  return Page{it->second.pa + page_offset, it->second.attributes};
}

std::vector<Run> ReferenceModel::runs() const {
  std::vector<Run> out;
  for (const auto& [va, e] : extents_) {
    if (!out.empty()) {
      Run& last = out.back();
      if (last.va + last.size == va && last.pa + last.size == e.pa && last.attributes == e.attributes) {
        last.size += e.size;
        continue;
      }
    }
    out.push_back(Run{va, e.pa, e.attributes, e.size});
  }
  return out;
}

}  // namespace tlbkit::test
