#pragma once
/// \file
/// Labels for single-label (class ids) and multi-label (multi-hot) data in one type, so metrics
/// and rewards never care which. Two items are relevant to each other when they share at least
/// one label.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

class Labels {
 public:
  Labels() = default;

  /// The largest number of classes a label set may have. Class ids are refused, not remapped,
  /// beyond it: labels of queries and database are read from separate files, and a dense
  /// remapping of each would silently disagree between them. 2^16 classes keep the label matrix
  /// at 8 KiB per item at most, whatever id a file holds.
  static constexpr int max_classes = 1 << 16;

  /// Single-label data: `ids[i]` is item i's class in [0, num_classes). `num_classes` <= 0 means
  /// max id + 1. Ids must be below max_classes (InvalidArgument otherwise).
  static Labels from_class_ids(const std::vector<std::int32_t>& ids, int num_classes = 0) {
    check(num_classes <= max_classes, "labels: ", num_classes, " classes, expected at most ", max_classes);
    const int limit = num_classes > 0 ? num_classes : max_classes;
    int classes = num_classes;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      check(ids[i] >= 0, "labels: class id of item ", i, " is ", ids[i], ", expected >= 0");
      check(
          ids[i]<limit, "labels: class id of item ", i, " is ", ids[i], ", expected < ", limit, num_classes> 0
              ? ""
              : " (class ids must be dense: 0 .. classes - 1)");
      classes = std::max(classes, ids[i] + 1);
    }
    Labels labels(static_cast<Index>(ids.size()), std::max(classes, 1));
    labels.single_ = true;
    for (std::size_t i = 0; i < ids.size(); ++i) labels.set(static_cast<Index>(i), ids[i]);
    return labels;
  }

  /// Multi-label data from a row-major [N, C] 0/1 array (e.g. a uint8 or bool .npy).
  template <class T>
  static Labels from_multi_hot(const T* data, Index items, int num_classes) {
    check(num_classes > 0 && num_classes <= max_classes, "labels: a multi-hot array has ", num_classes,
          " class columns, expected 1 .. ", max_classes);
    Labels labels(items, num_classes);
    labels.single_ = false;
    for (Index i = 0; i < items; ++i)
      for (int c = 0; c < num_classes; ++c)
        if (data[i * num_classes + c] != T(0)) labels.set(i, c);
    return labels;
  }

  Index size() const { return items_; }
  int num_classes() const { return classes_; }
  /// True when built from class ids (each item has exactly one label).
  bool is_single_label() const { return single_; }

  bool has(Index item, int label) const { return (row(item)[label >> 6] >> (label & 63)) & 1U; }
  /// The item's class id (single-label) or its smallest label (multi-label; -1 when none).
  int first_label(Index item) const {
    const std::uint64_t* bits = row(item);
    for (int w = 0; w < words_; ++w)
      if (bits[w] != 0) return w * 64 + __builtin_ctzll(bits[w]);
    return -1;
  }
  std::vector<int> labels_of(Index item) const {
    std::vector<int> out;
    for (int c = 0; c < classes_; ++c)
      if (has(item, c)) out.push_back(c);
    return out;
  }
  /// True when item `i` of this set and item `j` of `other` share a label.
  bool relevant(Index i, const Labels& other, Index j) const {
    const std::uint64_t* a = row(i);
    const std::uint64_t* b = other.row(j);
    const int words = std::min(words_, other.words_);
    for (int w = 0; w < words; ++w)
      if (a[w] & b[w]) return true;
    return false;
  }
  /// The labels of the listed items, in that order.
  Labels subset(const std::vector<Index>& items) const {
    Labels out(static_cast<Index>(items.size()), classes_);
    out.single_ = single_;
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (items[k] < 0 || items[k] >= items_)
        throw InvalidArgument("labels: subset index " + std::to_string(items[k]) + " outside [0, " +
                              std::to_string(items_) + ")");
      std::copy_n(row(items[k]), words_, out.bits_.data() + k * static_cast<std::size_t>(words_));
    }
    return out;
  }
  /// The packed label words of one item (ceil(num_classes / 64) words, bit c = label c).
  const std::uint64_t* row(Index item) const { return bits_.data() + item * words_; }
  int words_per_item() const { return words_; }

 private:
  Labels(Index items, int classes)
      : items_(items), classes_(classes), words_((classes + 63) / 64), bits_(word_count(items, classes), 0) {}
  static std::size_t word_count(Index items, int classes) {
    const Index words = checked_mul(items, (classes + 63) / 64, "labels: items x label words");
    checked_bytes(words, sizeof(std::uint64_t), "labels");
    return static_cast<std::size_t>(words);
  }
  void set(Index item, int label) { bits_[item * words_ + (label >> 6)] |= std::uint64_t{1} << (label & 63); }

  Index items_ = 0;
  int classes_ = 0;
  int words_ = 0;
  bool single_ = true;
  std::vector<std::uint64_t> bits_;
};

}  // namespace rlhash
