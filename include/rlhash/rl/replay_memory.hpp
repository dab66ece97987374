#pragma once
/// \file
/// Experience replay (Mnih et al. 2015): a ring buffer of the last `capacity` transitions,
/// sampled uniformly with replacement. Each entry is a fixed-size, trivially copyable record
/// plus `words` 64-bit payload words (DRLH stores the current binary code there, so a
/// transition costs a few dozen bytes instead of a whole state vector: the next state follows
/// from the state and the action). Saved with checkpoints for a bit-exact resume.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::rl {

template <class Record>
class ReplayMemory {
  static_assert(std::is_trivially_copyable_v<Record>, "ReplayMemory stores trivially copyable records");

 public:
  ReplayMemory() = default;
  /// Holds up to `capacity` (>= 1) entries of one Record and `words` payload words each.
  ReplayMemory(Index capacity, int words) : capacity_(capacity), words_(words) {
    rlhash::detail::require(capacity >= 1,
                            "replay memory: capacity must be >= 1, got " + std::to_string(capacity));
    rlhash::detail::require(words >= 0,
                            "replay memory: payload words must be >= 0, got " + std::to_string(words));
    records_.reserve(static_cast<std::size_t>(capacity));
    payload_.reserve(static_cast<std::size_t>(capacity) * static_cast<std::size_t>(words));
  }
  /// Bytes a memory of `capacity` entries with `words` payload words each holds when full.
  static std::size_t bytes_for(Index capacity, int words) {
    return static_cast<std::size_t>(capacity) * (sizeof(Record) + static_cast<std::size_t>(words) * 8);
  }

  Index capacity() const { return capacity_; }
  int words() const { return words_; }
  Index size() const { return static_cast<Index>(records_.size()); }
  bool empty() const { return records_.empty(); }
  /// Entries ever pushed (the ring overwrites the oldest once full).
  long long pushed() const { return pushed_; }

  /// Adds an entry; `payload` points at words() words (may be null when words() == 0).
  void push(const Record& record, const std::uint64_t* payload) {
    rlhash::detail::require<StateError>(capacity_ > 0, "replay memory: push on a memory of capacity 0");
    const auto w = static_cast<std::size_t>(words_);
    if (size() < capacity_) {
      records_.push_back(record);
      payload_.resize(payload_.size() + w);
      if (w > 0) std::memcpy(payload_.data() + (records_.size() - 1) * w, payload, w * sizeof(std::uint64_t));
    } else {
      const auto slot = static_cast<std::size_t>(next_);
      records_[slot] = record;
      if (w > 0) std::memcpy(payload_.data() + slot * w, payload, w * sizeof(std::uint64_t));
    }
    next_ = (next_ + 1) % capacity_;
    ++pushed_;
  }

  const Record& record(Index i) const { return records_[checked(i)]; }
  const std::uint64_t* payload(Index i) const {
    return payload_.data() + checked(i) * static_cast<std::size_t>(words_);
  }

  /// `count` entry indices drawn uniformly with replacement from `rng`.
  std::vector<Index> sample(Index count, Rng& rng) const {
    rlhash::detail::require<StateError>(!records_.empty(), "replay memory: sample from an empty memory");
    std::vector<Index> out(static_cast<std::size_t>(count));
    for (auto& i : out)
      i = static_cast<Index>(uniform_below(rng, static_cast<std::uint64_t>(records_.size())));
    return out;
  }

  void clear() {
    records_.clear();
    payload_.clear();
    next_ = 0;
    pushed_ = 0;
  }

  void save(ByteWriter& out) const {
    out.put<std::int64_t>(capacity_);
    out.put<std::int32_t>(words_);
    out.put<std::int64_t>(next_);
    out.put<std::int64_t>(pushed_);
    out.put<std::uint64_t>(static_cast<std::uint64_t>(sizeof(Record)));
    out.put_vector(records_);
    out.put_vector(payload_);
  }
  /// Reads what save() wrote; the capacity and payload width must match this memory's.
  void load(ByteReader& in) {
    const auto capacity = in.get<std::int64_t>();
    const auto words = in.get<std::int32_t>();
    const auto next = in.get<std::int64_t>();
    const auto pushed = in.get<std::int64_t>();
    const auto record_size = in.get<std::uint64_t>();
    if (capacity != capacity_ || words != words_ || record_size != sizeof(Record))
      in.fail("a replay memory of capacity " + std::to_string(capacity_) + " with " + std::to_string(words_) +
              " payload words, found capacity " + std::to_string(capacity) + " with " +
              std::to_string(words));
    auto records = in.get_vector<Record>();
    auto payload = in.get_vector<std::uint64_t>();
    if (static_cast<Index>(records.size()) > capacity_ ||
        payload.size() != records.size() * static_cast<std::size_t>(words_) || next < 0 ||
        next >= capacity_ || pushed < static_cast<std::int64_t>(records.size()))
      in.fail("consistent replay memory contents (" + std::to_string(records.size()) + " records)");
    records_ = std::move(records);
    records_.reserve(static_cast<std::size_t>(capacity_));
    payload_ = std::move(payload);
    next_ = next;
    pushed_ = pushed;
  }

 private:
  std::size_t checked(Index i) const {
    if (i < 0 || i >= size())
      throw InvalidArgument("replay memory: entry " + std::to_string(i) + " outside [0, " +
                            std::to_string(size()) + ")");
    return static_cast<std::size_t>(i);
  }

  Index capacity_ = 0;
  int words_ = 0;
  Index next_ = 0;
  long long pushed_ = 0;
  std::vector<Record> records_;
  std::vector<std::uint64_t> payload_;
};

}  // namespace rlhash::rl
