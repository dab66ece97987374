#pragma once
/// \file
/// Named configuration fields. A method's `Config` struct lists its fields once in
///
///     template <class Visitor> void visit(Visitor&& field) {
///       field("learning_rate", learning_rate);
///       field("hidden", hidden);
///     }
///
/// and gets from this header: `--set method.field=value` parsing (set_field), a field listing
/// for error messages, JSON text, and a round trip through model files (key=value strings).
#include <cstdint>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"

namespace rlhash {

namespace detail {

template <class T>
std::string field_to_string(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else {
    std::ostringstream out;
    out.precision(17);
    out << value;
    return out.str();
  }
}

template <class T>
bool parse_field(const std::string& text, T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1" || text == "on") return value = true, true;
    if (text == "false" || text == "0" || text == "off") return value = false, true;
    return false;
  } else if constexpr (std::is_same_v<T, std::string>) {
    value = text;
    return true;
  } else {
    std::istringstream in(text);
    T parsed{};
    in >> parsed;
    if (in.fail() || !in.eof()) return false;
    if constexpr (std::is_unsigned_v<T>) {
      if (!text.empty() && text[0] == '-') return false;
    }
    value = parsed;
    return true;
  }
}

template <class T>
const char* field_type_name() {
  if constexpr (std::is_same_v<T, bool>)
    return "a boolean (true/false)";
  else if constexpr (std::is_same_v<T, std::string>)
    return "a string";
  else if constexpr (std::is_integral_v<T>)
    return "an integer";
  else
    return "a number";
}

}  // namespace detail

/// The names of a config's fields, comma-separated, in declaration order.
template <class Config>
std::string field_names(Config config) {
  std::string names;
  config.visit([&](const char* name, auto&) { names += (names.empty() ? "" : ", ") + std::string(name); });
  return names;
}

/// Every field as (name, value text), in declaration order.
template <class Config>
std::vector<std::pair<std::string, std::string>> field_values(const Config& config) {
  std::vector<std::pair<std::string, std::string>> values;
  const_cast<Config&>(config).visit(
      [&](const char* name, auto& value) { values.emplace_back(name, detail::field_to_string(value)); });
  return values;
}

/// Sets field `key` from `text`. `context` prefixes error messages (e.g. "--set drlih.lr").
/// An unknown key is an error that lists the valid ones.
template <class Config>
void set_field(Config& config, const std::string& key, const std::string& text,
               const std::string& context = "config") {
  bool found = false;
  config.visit([&](const char* name, auto& value) {
    if (found || key != name) return;
    found = true;
    using T = std::decay_t<decltype(value)>;
    if (!detail::parse_field(text, value))
      throw InvalidArgument(context + ": field '" + key + "' expects " + detail::field_type_name<T>() +
                            ", got '" + text + "'");
  });
  if (!found)
    throw InvalidArgument(context + ": unknown field '" + key + "'; valid fields: " + field_names(config));
}

/// Writes every field as key=value strings (readable by later versions that add fields).
template <class Config>
void save_config(ByteWriter& out, const Config& config) {
  const auto values = field_values(config);
  out.put<std::uint64_t>(values.size());
  for (const auto& [key, value] : values) {
    out.put_string(key);
    out.put_string(value);
  }
}

/// Reads what save_config wrote; unknown keys in the file are a FormatError.
template <class Config>
Config load_config(ByteReader& in, Config config = {}) {
  const auto count = in.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string key = in.get_string();
    const std::string value = in.get_string();
    try {
      set_field(config, key, value, "'" + in.source() + "' config");
    } catch (const InvalidArgument& e) {
      throw FormatError(e.what());
    }
  }
  return config;
}

}  // namespace rlhash
