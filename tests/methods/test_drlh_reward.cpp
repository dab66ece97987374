// DRLH's rewards (eq. 1, 2) and the guided-exploration expert on hand-made states.
#include <catch.hpp>
#include <test_util.hpp>

#include <algorithm>
#include <vector>

#include "rlhash/reward/bch_reward.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_drlh_reward {

namespace {
std::vector<std::uint64_t> code_of(const LabelEmbedding& e, int c) { return {e.codewords().row(c)[0]}; }
void flip(std::vector<std::uint64_t>& code, int bit) { code[0] ^= std::uint64_t{1} << bit; }
bool bit_of(std::uint64_t word, int bit) { return ((word >> bit) & 1U) != 0; }
}  // namespace

TEST_CASE("eq. 1: flip rewards are the change of d_pos - d_neg, positive towards the class",
          "[drlh][reward]") {
  const LabelEmbedding emb(4, 8, 3);  // BCH(7, 4) + 1 padding bit, D = 3
  const BchReward reward(emb, 5.0, 1);
  const Labels labels = Labels::from_class_ids({0, 1, 2, 3}, 4);
  // Start at class 0's codeword with bits 1 and 4 flipped.
  auto code = code_of(emb, 0);
  flip(code, 1);
  flip(code, 4);
  std::vector<int> d(4);
  reward.distances(code.data(), d.data());
  REQUIRE(d[0] == 2);
  for (int bit = 0; bit < 8; ++bit) {
    auto next = code;
    flip(next, bit);
    // Independent reference: LabelEmbedding's own d_pos / d_neg before and after.
    const double before = emb.d_pos(code.data(), 0) - emb.d_neg(code.data(), 0);
    const double after = emb.d_pos(next.data(), 0) - emb.d_neg(next.data(), 0);
    const double r = reward.flip_reward(code.data(), d.data(), labels, 0, bit);
    CHECK(r == Approx(before - after));
    // By hand: d_pos changes by -1 on a disagreeing bit, +1 otherwise; d_neg by the mean over
    // the other three codewords of (+1 if they agree with the current bit, else -1).
    const bool disagree = bit == 1 || bit == 4;
    double dneg = 0;
    for (int c = 1; c < 4; ++c)
      dneg += bit_of(emb.codewords().row(c)[0], bit) == bit_of(code[0], bit) ? 1 : -1;
    dneg /= 3;
    CHECK(r == Approx((disagree ? 1.0 : -1.0) + dneg));
    if (disagree) CHECK(r >= 0.0);  // moving towards the class codeword is never penalised
  }
  // apply_flip keeps the incremental distances equal to a full recomputation.
  std::vector<int> d2(4);
  reward.apply_flip(code.data(), d.data(), 4);
  reward.distances(code.data(), d2.data());
  CHECK(d == d2);
  CHECK(d[0] == 1);
}

TEST_CASE("eq. 2: terminate pays +sigma inside eta, -sigma outside", "[drlh][reward]") {
  const LabelEmbedding emb(4, 8, 3);
  const BchReward reward(emb, 5.0, 1);
  const Labels labels = Labels::from_class_ids({2}, 4);
  auto code = code_of(emb, 2);
  std::vector<int> d(4);
  reward.distances(code.data(), d.data());
  CHECK(reward.reward(code.data(), d.data(), labels, 0, reward.terminate_action()) == 5.0);  // d_pos = 0
  flip(code, 0);
  reward.distances(code.data(), d.data());
  CHECK(reward.reward(code.data(), d.data(), labels, 0, 8) == 5.0);  // d_pos = 1 = eta
  flip(code, 5);
  reward.distances(code.data(), d.data());
  CHECK(reward.reward(code.data(), d.data(), labels, 0, 8) == -5.0);  // d_pos = 2 > eta
  CHECK(reward.terminate_reward(0) == 5.0);
  CHECK(BchReward(emb, 2.5, 0).terminate_reward(1) == -2.5);
  // The default eta is ceil(R_BCH / 2): R = 7 at 32 bits for 10 classes -> 4.
  const LabelEmbedding emb32(10, 32, 0);
  REQUIRE(emb32.radius() == 7);
  CHECK(BchReward(emb32).eta() == 4);
  CHECK(BchReward(emb, 5.0, -1).eta() == (emb.radius() + 1) / 2);
  CHECK_THROWS_AS(BchReward(emb, 5.0, 9), InvalidArgument);
}

TEST_CASE("the expert proposes exactly the improving actions", "[drlh][reward]") {
  const LabelEmbedding emb(4, 8, 3);
  const BchReward reward(emb, 5.0, 1);
  const Labels labels = Labels::from_class_ids({1}, 4);
  auto code = code_of(emb, 1);
  flip(code, 2);
  flip(code, 6);
  std::vector<int> d(4), actions;
  reward.distances(code.data(), d.data());
  reward.expert_actions(code.data(), d.data(), labels, 0, actions);
  CHECK(actions == std::vector<int>{2, 6});  // d_pos = 2 > eta: no terminate
  for (int a : actions) CHECK(reward.flip_reward(code.data(), d.data(), labels, 0, a) >= 0.0);
  reward.apply_flip(code.data(), d.data(), 6);
  reward.expert_actions(code.data(), d.data(), labels, 0, actions);
  CHECK(actions == std::vector<int>{2, 8});  // d_pos = 1 <= eta: terminate joins
  reward.apply_flip(code.data(), d.data(), 2);
  reward.expert_actions(code.data(), d.data(), labels, 0, actions);
  CHECK(actions == std::vector<int>{8});  // at the codeword: only terminate
}

TEST_CASE("multi-label items aim at the nearest of their codewords", "[drlh][reward]") {
  const LabelEmbedding emb(4, 8, 3);
  const BchReward reward(emb, 5.0, 0);
  const unsigned char hot[4] = {1, 0, 1, 0};  // classes 0 and 2
  const Labels labels = Labels::from_multi_hot(hot, 1, 4);
  auto code = code_of(emb, 2);
  flip(code, 3);  // distance 1 to class 2, >= 2 to class 0
  std::vector<int> d(4), actions;
  reward.distances(code.data(), d.data());
  CHECK(reward.target_class(d.data(), labels, 0) == 2);
  int pos;
  double neg;
  reward.pos_neg(d.data(), labels, 0, pos, neg);
  CHECK(pos == 1);
  CHECK(neg == Approx((d[1] + d[3]) / 2.0));
  CHECK(pos == emb.d_pos(code.data(), labels, 0));
  CHECK(neg == Approx(emb.d_neg(code.data(), labels, 0)));
  reward.expert_actions(code.data(), d.data(), labels, 0, actions);
  CHECK(actions == std::vector<int>{3});
  CHECK(reward.flip_reward(code.data(), d.data(), labels, 0, 3) > 0.0);
}

}  // namespace rlhash::test_drlh_reward
