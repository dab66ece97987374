// Oracle tests against tests/bch/oracle/bch-known.json (published BCH tables, galois/MATLAB/
// Octave examples). The file is read and parsed here, so the expectations come from the data.
#include <catch.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/gf2m.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_bch_known {

namespace {

// ---- a minimal JSON reader (objects, arrays, strings, numbers, literals) ----
struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  bool flag = false;
  double value = 0;
  std::string text;
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  const Json& operator[](const std::string& key) const {
    auto it = fields.find(key);
    if (kind != object || it == fields.end())
      throw std::runtime_error("bch-known.json: missing key '" + key + "'");
    return it->second;
  }
  bool has(const std::string& key) const { return kind == object && fields.count(key) > 0; }
};

class JsonParser {
 public:
  explicit JsonParser(std::string source) : s_(std::move(source)) {}
  Json parse() {
    Json v = value();
    skip();
    if (pos_ != s_.size()) fail("end of input");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("bch-known.json: expected " + what + " at offset " + std::to_string(pos_));
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string string_literal() {
    if (!eat('"')) fail("a string");
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) fail("an escape");
        const char e = s_[pos_];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \uXXXX does not occur in this file
      } else {
        out += s_[pos_];
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) fail("a closing quote");
    ++pos_;
    return out;
  }
  Json value() {
    skip();
    if (pos_ >= s_.size()) fail("a value");
    Json v;
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      v.kind = Json::object;
      if (eat('}')) return v;
      do {
        std::string key = string_literal();
        if (!eat(':')) fail("':'");
        v.fields[key] = value();
      } while (eat(','));
      if (!eat('}')) fail("'}'");
    } else if (c == '[') {
      ++pos_;
      v.kind = Json::array;
      if (eat(']')) return v;
      do v.items.push_back(value());
      while (eat(','));
      if (!eat(']')) fail("']'");
    } else if (c == '"') {
      v.kind = Json::string;
      v.text = string_literal();
    } else if (s_.compare(pos_, 4, "true") == 0 || s_.compare(pos_, 5, "false") == 0) {
      v.kind = Json::boolean;
      v.flag = s_[pos_] == 't';
      pos_ += v.flag ? 4 : 5;
    } else if (s_.compare(pos_, 4, "null") == 0) {
      pos_ += 4;
    } else {
      std::size_t used = 0;
      v.kind = Json::number;
      v.value = std::stod(s_.substr(pos_, 32), &used);
      if (used == 0) fail("a number");
      pos_ += used;
    }
    return v;
  }
  std::string s_;
  std::size_t pos_ = 0;
};

const Json& known() {
  static const std::unique_ptr<Json> data = [] {
    const std::string path = std::string(RLHASH_TEST_DATA_DIR) + "/bch-known.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return std::make_unique<Json>(JsonParser(buffer.str()).parse());
  }();
  return *data;
}

int as_int(const Json& v) { return static_cast<int>(v.value); }
std::uint32_t hex_u32(const Json& v) { return static_cast<std::uint32_t>(std::stoul(v.text, nullptr, 16)); }

// "c_{n-1} .. c_0" (highest degree first) -> packed words, bit i = c_i.
std::vector<std::uint64_t> from_msb_first(const std::string& bits) {
  const auto n = bits.size();
  std::vector<std::uint64_t> words((n + 63) / 64, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (bits[n - 1 - i] == '1') words[i / 64] |= std::uint64_t{1} << (i % 64);
  return words;
}
// Coefficients x^0 first -> polynomial.
Gf2Poly from_ascending(const std::string& bits) {
  Gf2Poly p;
  for (std::size_t i = 0; i < bits.size(); ++i)
    if (bits[i] == '1') p.set_coefficient(static_cast<int>(i), true);
  return p;
}

}  // namespace

TEST_CASE("default primitive polynomials follow the Lin & Costello / MATLAB table", "[bch]") {
  const Json& table = known()["primitive_polynomials"];
  REQUIRE(table.fields.size() >= 14);
  for (const auto& [m_text, entry] : table.fields) {
    const int m = std::stoi(m_text);
    INFO("m = " << m);
    const std::uint32_t expected = hex_u32(entry["matlab_gfprimdf_and_lin_costello"]);
    CHECK(default_primitive_polynomial(m) == expected);
    CHECK(is_primitive_polynomial(expected, m));
    CHECK(GaloisField(m).primitive_polynomial() == expected);
    // The alternative conventions listed are primitive too and accepted when passed.
    const std::uint32_t smallest = hex_u32(entry["min_terms_smallest"]);
    CHECK(is_primitive_polynomial(smallest, m));
    CHECK(GaloisField(m, smallest).primitive_polynomial() == smallest);
  }
}

TEST_CASE("generator polynomials, k, t_effective and designed distance match the published tables", "[bch]") {
  const Json& codes = known()["codes"];
  REQUIRE(codes.items.size() >= 20);
  for (const Json& entry : codes.items) {
    const int m = as_int(entry["m"]);
    const int t = as_int(entry["t"]);
    INFO("m = " << m << ", t = " << t);
    const BchCode code(m, t, hex_u32(entry["primitive_poly"]));
    CHECK(code.n() == as_int(entry["n"]));
    CHECK(code.k() == as_int(entry["k"]));
    CHECK(code.designed_distance() == as_int(entry["designed_distance"]));
    CHECK(code.t_effective() == as_int(entry["t_effective"]));
    CHECK(code.generator().hex() == entry["generator_poly_hex"].text);
    // The octal column is the same integer in base 8.
    std::ostringstream octal;
    octal << std::oct << code.generator().to_uint64();
    CHECK(octal.str() == entry["generator_poly_octal"].text);
    CHECK(BchCode::dimension_for(m, t) == code.k());
  }
}

TEST_CASE("galois docs BCH(15, 7) vectors: systematic [message | parity] encoding", "[bch]") {
  const Json& ref = known()["published_vectors"]["galois_docs_bch_15_7"];
  const BchCode code(4, as_int(ref["code"]["t"]), hex_u32(ref["code"]["primitive_poly"]));
  REQUIRE(code.n() == as_int(ref["code"]["n"]));
  REQUIRE(code.k() == as_int(ref["code"]["k"]));
  CHECK(code.generator().hex() == ref["code"]["generator_poly_hex"].text);
  REQUIRE(ref["vectors"].items.size() == 3);
  for (const Json& v : ref["vectors"].items) {
    INFO("message " << v["message"].text);
    const auto codeword = code.encode(from_msb_first(v["message"].text));
    CHECK(codeword == from_msb_first(v["codeword"].text));
  }
  // Generator matrix rows = encodings of the unit messages, row 0 = highest message bit.
  const auto& rows = ref["generator_matrix_rows"].items;
  REQUIRE(static_cast<int>(rows.size()) == code.k());
  for (int r = 0; r < code.k(); ++r) {
    std::vector<std::uint64_t> message(1, std::uint64_t{1} << (code.k() - 1 - r));
    CHECK(code.encode(message) == from_msb_first(rows[static_cast<std::size_t>(r)].text));
  }
}

TEST_CASE("generators for non-default primitive polynomials (MATLAB bchgenpoly, Octave bchpoly)", "[bch]") {
  const Json& vectors = known()["published_vectors"];
  const Json& matlab = vectors["matlab_bchgenpoly_15_11"];
  for (const char* key : {"default_prim", "prim_D4_D3_1"}) {
    const Json& e = matlab[key];
    const BchCode code(4, 1, hex_u32(e["primitive_poly"]));
    CHECK(code.k() == 11);
    // Descending powers string == the polynomial's MSB-first coefficients.
    CHECK(Gf2Poly::from_words(from_msb_first(e["genpoly_desc_powers"].text)) == code.generator());
  }
  const Json& octave = vectors["octave_bchpoly_alt_primitive"];
  REQUIRE(octave["entries"].items.size() >= 10);
  for (const Json& e : octave["entries"].items) {
    const std::uint32_t prim = hex_u32(e["primitive_poly"]);
    const int n = as_int(e["n"]);
    const int k = as_int(e["k"]);
    int m = 0;
    while ((1 << m) - 1 < n) ++m;
    // The smallest t that reaches this k.
    int t = 1;
    while (BchCode::dimension_for(m, t) > k) ++t;
    INFO("primitive " << e["primitive_poly"].text << ", n = " << n << ", k = " << k);
    const BchCode code(m, t, prim);
    REQUIRE(code.k() == k);
    CHECK(code.generator() == from_ascending(e["coeffs_ascending"].text));
  }
}

}  // namespace rlhash::test_bch_known
