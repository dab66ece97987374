// The tool's side of the CUDA paths (cuda_paths.hpp): loads rlhash-cuda.so on first use and
// forwards to it. Looked for, in order: $RLHASH_CUDA_MODULE, next to the executable, and in
// ../lib/rlhash/ beside it (the installed layout).
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include "cuda_paths.hpp"
#include "rlhash/core/error.hpp"

namespace rlhash::cli {
namespace {

std::string executable_folder() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return ".";
  const std::string exe(path, static_cast<std::size_t>(length));
  const std::size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}

std::vector<std::string> module_candidates() {
  std::vector<std::string> paths;
  if (const char* forced = std::getenv("RLHASH_CUDA_MODULE")) paths.emplace_back(forced);
  const std::string folder = executable_folder();
  paths.push_back(folder + "/rlhash-cuda.so");
  paths.push_back(folder + "/../lib/rlhash/rlhash-cuda.so");
  return paths;
}

/// The module's table, loaded once; throws InvalidArgument naming --device and why not.
const CudaPathTable& module_for(const DeviceChoice& device) {
  static const CudaPathTable* table = nullptr;
  static std::string failure;
  if (table != nullptr) return *table;
  if (failure.empty()) {
    std::string tried;
    for (const std::string& path : module_candidates()) {
      if (::access(path.c_str(), F_OK) != 0) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        const char* why = ::dlerror();
        failure = "cannot load the CUDA module '" + path + "': " + (why ? why : "unknown error");
        break;
      }
      using Entry = const CudaPathTable* (*)();
      auto entry = reinterpret_cast<Entry>(::dlsym(handle, cuda_path_table_symbol));
      const CudaPathTable* loaded = entry != nullptr ? entry() : nullptr;
      if (loaded == nullptr || loaded->abi != cuda_path_table_abi) {
        failure = "'" + path + "' is not this build's CUDA module";
        break;
      }
      table = loaded;
      return *table;
    }
    if (failure.empty())
      failure = "this rlhash was built without CUDA (no CUDA module at " + tried +
                "; configure with -DRLHASH_WITH_CUDA=ON)";
  }
  throw InvalidArgument("--device " + device.text + ": " + failure);
}

/// The loaded module, for the paths that run only after use_cuda_device succeeded.
const CudaPathTable& loaded_module() { return module_for(DeviceChoice{true, 0, "cuda"}); }

}  // namespace

std::string use_cuda_device(const DeviceChoice& device) { return module_for(device).use_cuda_device(device); }

bool has_cuda_path(const std::string& method) { return loaded_module().has_cuda_path(method); }

void fit_on_cuda(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                 const FitOptions& options) {
  loaded_module().fit_on_cuda(hasher, features, labels, options);
}

BinaryCodes encode_on_cuda(const AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features) {
  return loaded_module().encode_on_cuda(hasher, features);
}

KnnResult knn_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, Index k, int device) {
  return loaded_module().knn_on_cuda(queries, database, k, device);
}

RangeResult range_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, int radius, int device) {
  return loaded_module().range_on_cuda(queries, database, radius, device);
}

}  // namespace rlhash::cli
