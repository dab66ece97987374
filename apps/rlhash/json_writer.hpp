#pragma once
// A small streaming JSON writer for the CLI's --json output (the library itself has no JSON).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace rlhash::cli {

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(const std::string& name) {
    separate();
    text_ += quote(name) + ": ";
    after_key_ = true;
    return *this;
  }
  JsonWriter& value(const std::string& text) { return raw(quote(text)); }
  JsonWriter& value(const char* text) { return raw(quote(text)); }
  JsonWriter& value(bool flag) { return raw(flag ? "true" : "false"); }
  JsonWriter& value(double number) {
    if (!std::isfinite(number)) return raw("null");
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.10g", number);
    return raw(buffer);
  }
  JsonWriter& value(long long number) { return raw(std::to_string(number)); }
  JsonWriter& value(int number) { return raw(std::to_string(number)); }
  JsonWriter& value(long number) { return raw(std::to_string(number)); }
  JsonWriter& value(unsigned long number) { return raw(std::to_string(number)); }
  template <class T>
  JsonWriter& field(const std::string& name, const T& v) {
    key(name);
    return value(v);
  }
  const std::string& str() const { return text_; }

  static std::string quote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
            out += buffer;
          } else {
            out += c;
          }
      }
    }
    return out + "\"";
  }

 private:
  JsonWriter& open(char bracket) {
    separate();
    text_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char bracket) {
    first_.pop_back();
    text_ += bracket;
    return *this;
  }
  JsonWriter& raw(const std::string& token) {
    separate();
    text_ += token;
    return *this;
  }
  // A comma before every element but the first of its container; none right after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) text_ += ", ";
    first_.back() = false;
  }

  std::string text_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace rlhash::cli
