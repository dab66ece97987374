#pragma once
/// \file
/// The hashers the CLI and model files know by name.
///
/// The table instantiates every method (training, encoding, saving) in each translation unit
/// that calls make_hasher, method_names or Model::load, which costs about 40 s of compile time
/// there. They are templates (with a defaulted, unused parameter; call them as usual) so that a
/// file that includes the header, or rlhash.hpp, without calling them pays nothing for the table.
/// A program with several files that use the registry can compile it once: define
/// RLHASH_REGISTRY_EXTERN for the whole target, and RLHASH_REGISTRY_IMPLEMENTATION in exactly
/// one .cpp file before including this header. Without either macro everything is inline.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/methods/any_hasher.hpp"

#if defined(RLHASH_REGISTRY_IMPLEMENTATION) || !defined(RLHASH_REGISTRY_EXTERN)
#define RLHASH_REGISTRY_DEFINE_TABLE 1
#include "rlhash/methods/baselines/itq.hpp"
#include "rlhash/methods/baselines/ksh.hpp"
#include "rlhash/methods/baselines/sdh.hpp"
#include "rlhash/methods/baselines/sh.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/csq.hpp"
#include "rlhash/methods/dpsh.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/dsh.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/greedy_hash.hpp"
#include "rlhash/methods/hashnet.hpp"
#include "rlhash/methods/lsh.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#endif

namespace rlhash {

namespace detail {
struct MethodEntry {
  const char* name;
  const char* summary;
  AnyHasher (*make)(int bits, std::uint64_t seed);
};

#ifndef RLHASH_REGISTRY_DEFINE_TABLE
const std::vector<MethodEntry>& method_table();  // defined where RLHASH_REGISTRY_IMPLEMENTATION is
#else
template <class Hasher>
AnyHasher make_default(int bits, std::uint64_t seed) {
  typename Hasher::Config config;
  config.bits = bits;
  config.seed = seed;
  return AnyHasher(Hasher(config));
}

#ifdef RLHASH_REGISTRY_IMPLEMENTATION
const std::vector<MethodEntry>& method_table() {
#else
template <int = 0>
const std::vector<MethodEntry>& method_table() {
#endif
  static const std::vector<MethodEntry> table = {
      {"lsh", "random-projection LSH (unsupervised)", &make_default<Lsh>},
      {"itq", "iterative quantization (unsupervised)", &make_default<Itq>},
      {"sh", "spectral hashing (unsupervised)", &make_default<Sh>},
      {"sdh", "supervised discrete hashing", &make_default<Sdh>},
      {"ksh", "kernel-based supervised hashing", &make_default<Ksh>},
      {"drlih", "DRLIH: RNN policy agent emitting bits in action groups", &make_default<Drlih>},
      {"drlih-ng", "DRLIH ablation Baseline_ng: action groups of one bit", &make_default<DrlihNg>},
      {"drlih-cnn", "DRLIH on a small CNN over image pixels", &make_default<DrlihCnn>},
      {"fc-triplet", "DRLIH ablation Baseline_noseq: one FC hashing layer, triplet loss",
       &make_default<FcTriplet>},
      {"fc-triplet-cnn", "DRLIH ablation Baseline_noseq on the CNN (drlih-cnn's network)",
       &make_default<FcTripletCnn>},
      {"drlh", "DRLH: deep Q-network walking codes to BCH class targets", &make_default<Drlh>},
      {"bch-classifier", "DRLH's baseline: an MLP classifier, each item its class's BCH codeword",
       &make_default<BchClassifier>},
      {"dph", "listwise deep policy hashing (policy gradient on AP)", &make_default<PolicyHashing>},
      {"dph-cnn", "listwise deep policy hashing on a small CNN over image pixels",
       &make_default<PolicyHashingCnn>},
      {"dsh", "DSH: contrastive loss against a memory of all training outputs", &make_default<Dsh>},
      {"dsh-cnn", "DSH on a small CNN over image pixels", &make_default<DshCnn>},
      {"hashnet", "HashNet: balanced pairwise likelihood on tanh(beta u), beta continuation",
       &make_default<HashNet>},
      {"hashnet-cnn", "HashNet on a small CNN over image pixels", &make_default<HashNetCnn>},
      {"csq", "CSQ: central similarity to per-class hash centres (Hadamard, random or BCH)",
       &make_default<Csq>},
      {"greedyhash", "GreedyHash: sign forward, straight-through backward, classifier on codes",
       &make_default<GreedyHash>},
      {"dpsh", "DPSH: pairwise likelihood on inner products against stored outputs", &make_default<Dpsh>},
  };
  return table;
}
#endif  // RLHASH_REGISTRY_DEFINE_TABLE
}  // namespace detail

/// The registered method names, in the order `--method all` runs them.
template <int = 0>
std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& entry : detail::method_table()) names.emplace_back(entry.name);
  return names;
}

/// A hasher of the named method with the given code length and seed; other fields at defaults.
template <int = 0>
AnyHasher make_hasher(const std::string& method, int bits, std::uint64_t seed = 0) {
  for (const auto& entry : detail::method_table())
    if (method == entry.name) return entry.make(bits, seed);
  std::string known;
  for (const auto& name : method_names()) known += (known.empty() ? "" : ", ") + name;
  throw InvalidArgument("unknown method '" + method + "'; known methods: " + known);
}

}  // namespace rlhash

#undef RLHASH_REGISTRY_DEFINE_TABLE
