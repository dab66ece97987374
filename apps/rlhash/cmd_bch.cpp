// rlhash bch: a BCH code's parameters and generator, or the DRLH label embedding of C classes in
// b bits (its code, codewords and measured distance).
#include <cstdio>
#include <memory>
#include <string>

#include "command.hpp"
#include "json_writer.hpp"
#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/message.hpp"

namespace rlhash::cli {
namespace {

struct BchOptions {
  int m = 0, t = 0, classes = 0, bits = 0;
  std::string primitive;
  std::string fill = "paper";
};

std::uint32_t parse_primitive(const std::string& text) {
  const std::size_t start = (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 2 : 0;
  if (text.size() == start || text.size() - start > 8 ||
      text.find_first_not_of("0123456789abcdefABCDEF", start) != std::string::npos)
    throw InvalidArgument("--primitive: expected a hex polynomial such as 0x89 (bit i = x^i), found '" +
                          text + "'");
  const auto value = static_cast<std::uint32_t>(std::stoul(text.substr(start), nullptr, 16));
  if (value == 0)
    throw InvalidArgument(
        "--primitive: 0 is not a polynomial; expected a primitive polynomial of degree --m "
        "such as 0x89 (leave --primitive out for the default)");
  return value;
}

/// The label embedding measures every pair of codewords (its minimum and mean distance):
/// C (C - 1) / 2 pairs of b-bit words. Beyond about 2^33 word comparisons (tens of seconds on
/// one core) the request is refused rather than left running without a word.
void require_embedding_work_bounded(int classes, int bits) {
  const double pairs = 0.5 * classes * (classes - 1.0);
  const double work = pairs * ((bits + 63) / 64);
  constexpr double limit = 8589934592.0;  // 2^33
  if (work > limit)
    throw InvalidArgument(message("bch: --classes ", classes, " with --bits ", bits, " needs ", work,
                                  " codeword comparisons to measure the embedding's distances, "
                                  "expected at most ",
                                  limit, "; give fewer classes or bits"));
}

/// A packed code as hex of its bytes, byte 0 first, each byte as two digits (the faiss layout).
std::string code_hex(const std::uint64_t* words, int bits) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int byte = 0; byte < (bits + 7) / 8; ++byte) {
    const auto v = static_cast<unsigned>((words[byte / 8] >> (8 * (byte % 8))) & 0xffU);
    out += digits[v >> 4];
    out += digits[v & 15U];
  }
  return out;
}

std::string code_bits(const BinaryCodes& codes, Index row) {
  std::string out;
  for (int j = 0; j < codes.bits(); ++j) out += codes.get(row, j) ? '1' : '0';
  return out;
}

void write_json(const std::string& path, const JsonWriter& json) {
  const std::string text = json.str() + "\n";
  write_file_atomic(path, text.data(), text.size());
}

void run_code(const BchOptions& o, const CommonOptions& common) {
  const std::uint32_t primitive = o.primitive.empty() ? 0 : parse_primitive(o.primitive);
  const BchCode code(o.m, o.t, primitive);
  const std::string prim_hex = gf2_hex(code.primitive_polynomial());
  std::printf("BCH(%d, %d) over GF(2^%d)\n", code.n(), code.k(), code.m());
  std::printf("m                  %d\n", code.m());
  std::printf("n                  %d\n", code.n());
  std::printf("k                  %d\n", code.k());
  std::printf("t                  %d\n", code.t());
  std::printf("t_effective        %d\n", code.t_effective());
  std::printf("designed distance  %d\n", code.designed_distance());
  std::printf("primitive          %s\n", prim_hex.c_str());
  std::printf("generator          %s\n", code.generator().hex().c_str());
  if (!common.json_path.empty()) {
    JsonWriter json;
    json.begin_object()
        .field("m", code.m())
        .field("n", code.n())
        .field("k", code.k())
        .field("t", code.t())
        .field("t_effective", code.t_effective())
        .field("designed_distance", code.designed_distance())
        .field("primitive", prim_hex)
        .field("generator", code.generator().hex())
        .end_object();
    write_json(common.json_path, json);
  }
}

void run_embedding(const BchOptions& o, const CommonOptions& common) {
  const LabelEmbedding e(o.classes, o.bits, common.seed, parse_label_code_fill(o.fill, "bch: --fill"));
  const BchCode& base = e.code().base();
  const bool padded = e.construction() == LabelEmbedding::Construction::padded;
  std::printf("label embedding of %d classes in %d bits (seed %llu)\n", o.classes, o.bits,
              static_cast<unsigned long long>(common.seed));
  std::printf("code               %s\n", e.description().c_str());
  std::printf("construction       %s\n", padded ? "padded" : "shortened_punctured");
  std::printf("m                  %d\n", e.m());
  std::printf("t                  %d\n", e.t());
  std::printf("shortened          %d\n", e.code().shortened());
  std::printf("punctured          %d\n", e.code().punctured());
  std::printf("padding            %d\n", e.padding());
  std::printf("fill               %s\n", label_code_fill_name(e.fill()));
  std::printf("codewords (bit 0 first):\n");
  for (Index c = 0; c < e.codewords().size(); ++c)
    std::printf("%4lld  %s\n", static_cast<long long>(c), code_bits(e.codewords(), c).c_str());
  std::printf("min distance       %d\n", e.min_distance());
  std::printf("mean distance      %.4f\n", e.mean_distance());
  std::printf("radius R_BCH       %d\n", e.radius());
  if (!common.json_path.empty()) {
    JsonWriter json;
    json.begin_object()
        .field("classes", o.classes)
        .field("bits", o.bits)
        .field("seed", static_cast<unsigned long>(common.seed))
        .field("m", e.m())
        .field("t", e.t())
        .field("n", base.n())
        .field("k", base.k())
        .field("primitive", gf2_hex(base.primitive_polynomial()))
        .field("generator", base.generator().hex())
        .field("construction", padded ? "padded" : "shortened_punctured")
        .field("description", e.description())
        .field("shortened", e.code().shortened())
        .field("punctured", e.code().punctured())
        .field("padding", e.padding())
        .field("fill", label_code_fill_name(e.fill()))
        .field("min_distance", e.min_distance())
        .field("mean_distance", e.mean_distance())
        .field("radius", e.radius());
    json.key("codewords").begin_array();
    for (Index c = 0; c < e.codewords().size(); ++c) json.value(code_hex(e.codewords().row(c), o.bits));
    json.end_array().end_object();
    write_json(common.json_path, json);
  }
}

void run(const BchOptions& o, const CommonOptions& common) {
  const bool code_mode = o.m != 0 || o.t != 0;
  const bool embedding_mode = o.classes != 0 || o.bits != 0;
  if (code_mode == embedding_mode)
    throw InvalidArgument(
        "bch: give either --m and --t (a BCH code) or --classes and --bits (a label embedding)");
  if (code_mode) {
    if (o.m == 0 || o.t == 0) throw InvalidArgument("bch: --m and --t go together");
    run_code(o, common);
  } else {
    if (o.classes == 0 || o.bits == 0) throw InvalidArgument("bch: --classes and --bits go together");
    if (!o.primitive.empty()) throw InvalidArgument("bch: --primitive applies to --m/--t only");
    require_embedding_work_bounded(o.classes, o.bits);
    run_embedding(o, common);
  }
}

const RegisterCommand bch_command{
    {"bch", "BCH code parameters, or the DRLH label embedding of C classes in b bits",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<BchOptions>();
       app.add_option("--m", o->m, "Field degree: code length 2^m - 1")->check(CLI::Range(2, 16));
       app.add_option("--t", o->t, "Designed number of correctable errors")->check(CLI::Range(1, 1 << 15));
       app.add_option("--primitive", o->primitive,
                      "Primitive polynomial in hex, bit i = x^i (default: Lin & Costello table)");
       app.add_option("--classes", o->classes, "Number of classes C of the label embedding")
           ->check(CLI::Range(2, 1 << 16));
       app.add_option("--bits", o->bits, "Code length b of the label embedding")->check(CLI::Range(1, 1024));
       app.add_option("--fill", o->fill,
                      "How the classes fill the code: paper (class c = message c, random padding) or spread "
                      "(no bit the same for every class)")
           ->capture_default_str();
       add_common_options(app, common, false);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
