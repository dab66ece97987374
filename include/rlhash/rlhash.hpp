#pragma once
/// \file
/// The public surface of rlhash in one include (everything but the CUDA component, which lives in
/// rlhash/cuda/ and needs the CUDA toolkit).
#include "rlhash/version.hpp"

#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/progress.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"

#include "rlhash/io/array_spec.hpp"
#include "rlhash/io/idx.hpp"
#include "rlhash/io/npy.hpp"
#include "rlhash/io/npz.hpp"
#include "rlhash/io/vecs.hpp"

#include "rlhash/data/fashion_mnist.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/data/preprocess.hpp"
#include "rlhash/data/split.hpp"

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/codes/code_file.hpp"

#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/hamming_index.hpp"
#include "rlhash/search/hash_lookup.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

#include "rlhash/eval/evaluate.hpp"
#include "rlhash/eval/metrics.hpp"

#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/bernoulli.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/elman_rnn.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/policy_head.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/nn/trainer.hpp"

#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/gf2m.hpp"
#include "rlhash/bch/label_embedding.hpp"

#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/methods/baselines/itq.hpp"
#include "rlhash/methods/baselines/ksh.hpp"
#include "rlhash/methods/baselines/sdh.hpp"
#include "rlhash/methods/baselines/sh.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/lsh.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/methods/registry.hpp"
