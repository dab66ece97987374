// Encode/decode throughput of BCH(255, k, t) codes and the label embedding's reward distances.
//   build/bench/bench_bch --benchmark_min_time=0.2
// Counters: items_per_second = codewords (or codes) per second; bytes_per_second counts message
// bytes for encode and received-word bytes for decode.
#include <benchmark/benchmark.h>

#include <vector>

#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/code_families.hpp"
#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/core/random.hpp"

using namespace rlhash;

namespace {

constexpr int pool = 1024;

std::vector<std::uint64_t> random_bits(Rng& rng, int bits) {
  std::vector<std::uint64_t> w((static_cast<std::size_t>(bits) + 63) / 64);
  for (auto& x : w) x = rng();
  if (bits % 64 != 0) w.back() &= (std::uint64_t{1} << (bits % 64)) - 1;
  return w;
}

void BM_BchEncode(benchmark::State& state) {
  const BchCode code(8, static_cast<int>(state.range(0)));
  Rng rng(1);
  const auto mw = static_cast<std::size_t>(code.message_words());
  const auto cw = static_cast<std::size_t>(code.codeword_words());
  std::vector<std::uint64_t> messages(pool * mw), out(cw);
  for (int i = 0; i < pool; ++i) {
    const auto m = random_bits(rng, code.k());
    std::copy(m.begin(), m.end(), messages.begin() + static_cast<std::ptrdiff_t>(i * mw));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    code.encode(messages.data() + (i % pool) * mw, out.data());
    benchmark::DoNotOptimize(out.data());
    ++i;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * code.k() / 8);
  state.SetLabel("BCH(255, " + std::to_string(code.k()) + ") t=" + std::to_string(code.t()));
}
BENCHMARK(BM_BchEncode)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(32);

// Args: t, errors per word (-1 = t, the worst correctable case).
void BM_BchDecode(benchmark::State& state) {
  const BchCode code(8, static_cast<int>(state.range(0)));
  const int errors = state.range(1) < 0 ? code.t() : static_cast<int>(state.range(1));
  Rng rng(2);
  const auto cw = static_cast<std::size_t>(code.codeword_words());
  std::vector<std::uint64_t> received(pool * cw), work(cw);
  for (int i = 0; i < pool; ++i) {
    auto word = code.encode(random_bits(rng, code.k()));
    for (std::int64_t p : sample_without_replacement(code.n(), errors, rng))
      word[static_cast<std::size_t>(p / 64)] ^= std::uint64_t{1} << (p % 64);
    std::copy(word.begin(), word.end(), received.begin() + static_cast<std::ptrdiff_t>(i * cw));
  }
  BchCode::Workspace ws;
  std::size_t i = 0;
  std::int64_t failures = 0;
  for (auto _ : state) {
    const std::uint64_t* src = received.data() + (i % pool) * cw;
    std::copy(src, src + cw, work.begin());
    failures += code.decode(work.data(), ws) == BchCode::decode_failure ? 1 : 0;
    benchmark::DoNotOptimize(work.data());
    ++i;
  }
  if (failures != 0) state.SkipWithError("decoder failed on a correctable word");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * code.n() / 8);
  state.SetLabel("BCH(255, " + std::to_string(code.k()) + ") t=" + std::to_string(code.t()) +
                 " errors=" + std::to_string(errors));
}
BENCHMARK(BM_BchDecode)
    ->Args({2, 0})
    ->Args({2, -1})
    ->Args({4, 0})
    ->Args({4, -1})
    ->Args({8, 0})
    ->Args({8, 1})
    ->Args({8, -1})
    ->Args({16, 0})
    ->Args({16, -1})
    ->Args({32, -1});

// DRLH reward distances for a batch of 256 codes. Args: classes, bits.
void BM_RewardDistances(benchmark::State& state) {
  const int classes = static_cast<int>(state.range(0));
  const int bits = static_cast<int>(state.range(1));
  const LabelEmbedding embedding(classes, bits, 0);
  Rng rng(3);
  const BinaryCodes codes = random_codes(256, bits, rng);
  std::vector<std::int32_t> ids(256);
  for (auto& id : ids)
    id = static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(classes)));
  const Labels labels = Labels::from_class_ids(ids, classes);
  for (auto _ : state) {
    auto d = embedding.reward_distances(codes, labels);
    benchmark::DoNotOptimize(d.d_pos.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 256);
}
BENCHMARK(BM_RewardDistances)->Args({10, 32})->Args({21, 48})->Args({81, 64})->Args({38, 128});

}  // namespace

BENCHMARK_MAIN();
