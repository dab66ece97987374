#pragma once
// --device: where `train` and `eval` run the networks and `search` runs the scan. The CUDA paths
// (cuda_paths.hpp) exist only in a tool built with CUDA; elsewhere `--device cuda` is a clear
// error, never a silent fall back to the host.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cuda_paths.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/methods/model.hpp"

namespace rlhash::cli {

/// Parses `cpu`, `cuda` (device 0) or `cuda:N`.
inline DeviceChoice parse_device(const std::string& text) {
  if (text == "cpu") return {};
  if (text == "cuda") return {true, 0, text};
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : std::string();
  const bool numeric =
      !digits.empty() && digits.size() <= 4 && digits.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric) throw InvalidArgument("--device '" + text + "': expected cpu, cuda or cuda:N");
  return {true, std::stoi(digits), text};
}

/// Parses --device and, for a CUDA device, selects it (or throws saying why it cannot) and
/// names it on stderr, before any data is read.
inline DeviceChoice select_device(const std::string& text) {
  const DeviceChoice device = parse_device(text);
  if (device.cuda) std::fprintf(stderr, "device: %s\n", use_cuda_device(device).c_str());
  return device;
}

inline CLI::Option* add_device_option(CLI::App& app, std::string& device, const char* what) {
  return app.add_option("--device", device, std::string(what) + ": cpu, cuda or cuda:N")->default_val("cpu");
}

/// Where `method` runs when `requested`: the host when the method has no CUDA path (said once,
/// on stderr), else the requested device.
inline DeviceChoice device_for(const DeviceChoice& requested, const std::string& method) {
  if (!requested.cuda || has_cuda_path(method)) return requested;
  std::fprintf(stderr, "%s has no CUDA path; it trains and encodes on the host\n", method.c_str());
  return {};
}

/// Fits `hasher` on `device` (a device from device_for): on a CUDA device the networks and the
/// optimiser run there and the result is loaded into the host hasher.
inline void fit_on(const DeviceChoice& device, AnyHasher& hasher, const MatrixF& features,
                   const Labels& labels, const FitOptions& options) {
  if (device.cuda) return fit_on_cuda(hasher, features, labels, options);
  hasher.fit(features, labels, options);
}

/// The codes of `features` (already preprocessed), computed on `device` (from device_for).
inline BinaryCodes encode_on(const DeviceChoice& device, const AnyHasher& hasher, const MatrixF& features) {
  return device.cuda ? encode_on_cuda(hasher, features) : hasher.encode(features);
}

/// Model::encode on `device`: the model's preprocessing on the host, then its hasher there.
inline BinaryCodes encode_on(const DeviceChoice& device, const Model& model, const MatrixF& raw_features) {
  return encode_on(device, model.hasher, model.preprocessor.apply(raw_features));
}

}  // namespace rlhash::cli
