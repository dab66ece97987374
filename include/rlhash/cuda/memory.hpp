#pragma once
/// \file
/// RAII owners for device memory, page-locked host staging memory and streams. Plain host C++
/// (CUDA runtime API only), so .cpp files compiled by the C++ compiler can hold and pass them.
///
/// No managed (unified) memory anywhere: the Hamming index and the layers control every
/// transfer explicitly, so page-fault migration never hides in a timing.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/cuda/error.hpp"

namespace rlhash::cuda {

/// Number of CUDA devices; 0 when there is none or no usable driver (never throws, so that
/// callers and tests can decide to skip).
inline int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

namespace detail {
struct DeviceAllocation {
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    RLHASH_CUDA_CHECK(cudaMalloc(&p, bytes));
    return p;
  }
  static void release(void* p) noexcept { (void)cudaFree(p); }
};
struct PinnedAllocation {
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    RLHASH_CUDA_CHECK(cudaMallocHost(&p, bytes));
    return p;
  }
  static void release(void* p) noexcept { (void)cudaFreeHost(p); }
};

/// `count` elements of T from `Allocation`; move-only; never initialised; grows, never
/// shrinks its allocation. A zero-sized buffer holds no allocation.
template <class T, class Allocation>
class OwnedElements {
 public:
  OwnedElements() = default;
  ~OwnedElements() { release(); }
  OwnedElements(const OwnedElements&) = delete;
  OwnedElements& operator=(const OwnedElements&) = delete;
  OwnedElements(OwnedElements&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  OwnedElements& operator=(OwnedElements&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }

  /// Discards the contents and holds `count` elements (reallocates only when growing).
  void resize(std::size_t count) {
    if (count <= capacity_ && data_ != nullptr) {
      size_ = count;
      return;
    }
    release();
    if (count == 0) return;
    data_ = static_cast<T*>(Allocation::allocate(count * sizeof(T)));
    size_ = capacity_ = count;
  }
  T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept {
    // The release status is ignored: a destructor must not throw, and a failed free means the
    // context is already gone.
    if (data_ != nullptr) Allocation::release(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};
}  // namespace detail

/// `count` elements of T in device memory (cudaMalloc / cudaFree); move-only; never
/// initialised. A zero-sized buffer holds no allocation.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) { resize(count); }

  /// Discards the contents and holds `count` elements (reallocates only when growing).
  void resize(std::size_t count) { elements_.resize(count); }

  T* data() { return elements_.data(); }
  const T* data() const { return elements_.data(); }
  std::size_t size() const { return elements_.size(); }
  std::size_t bytes() const { return size() * sizeof(T); }
  bool empty() const { return size() == 0; }

  /// Copies `count` elements from host memory; returns when the data is in device memory.
  /// (A plain cudaMemcpy from pageable memory may return before its DMA is done, and work on a
  /// non-blocking stream would not be ordered after it; hence the explicit synchronisation.)
  void copy_from_host(const T* host, std::size_t count, std::size_t offset = 0) {
    check_range(offset, count, "copy_from_host");
    if (count == 0) return;
    RLHASH_CUDA_CHECK(
        cudaMemcpyAsync(data() + offset, host, count * sizeof(T), cudaMemcpyHostToDevice, nullptr));
    RLHASH_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  }
  /// Copies `count` elements to host memory, ordered on the legacy default stream: work queued
  /// on non-blocking streams must be synchronised by the caller first.
  void copy_to_host(T* host, std::size_t count, std::size_t offset = 0) const {
    check_range(offset, count, "copy_to_host");
    if (count > 0)
      RLHASH_CUDA_CHECK(cudaMemcpy(host, data() + offset, count * sizeof(T), cudaMemcpyDeviceToHost));
  }
  /// Asynchronous copies on `stream`; `host` must stay valid (and be pinned for true overlap).
  void copy_from_host_async(const T* host, std::size_t count, cudaStream_t stream, std::size_t offset = 0) {
    check_range(offset, count, "copy_from_host_async");
    if (count > 0)
      RLHASH_CUDA_CHECK(
          cudaMemcpyAsync(data() + offset, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  void copy_to_host_async(T* host, std::size_t count, cudaStream_t stream, std::size_t offset = 0) const {
    check_range(offset, count, "copy_to_host_async");
    if (count > 0)
      RLHASH_CUDA_CHECK(
          cudaMemcpyAsync(host, data() + offset, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }

 private:
  void check_range(std::size_t offset, std::size_t count, const char* what) const {
    if (offset > size() || count > size() - offset)
      throw InvalidArgument(std::string("DeviceBuffer::") + what + ": elements [" + std::to_string(offset) +
                            ", " + std::to_string(offset + count) + ") outside a buffer of " +
                            std::to_string(size()));
  }

  detail::OwnedElements<T, detail::DeviceAllocation> elements_;
};

/// `count` elements of page-locked host memory (cudaMallocHost): the staging area that lets
/// cudaMemcpyAsync overlap with kernels. Move-only, grows like DeviceBuffer.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t count) { resize(count); }
  void resize(std::size_t count) { elements_.resize(count); }
  T* data() { return elements_.data(); }
  const T* data() const { return elements_.data(); }
  std::size_t size() const { return elements_.size(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }

 private:
  detail::OwnedElements<T, detail::PinnedAllocation> elements_;
};

/// An owned, non-blocking CUDA stream (does not synchronise with the legacy default stream).
class Stream {
 public:
  Stream() { RLHASH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  Stream& operator=(Stream&& other) noexcept {
    if (this != &other) {
      if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
      stream_ = std::exchange(other.stream_, nullptr);
    }
    return *this;
  }
  cudaStream_t get() const { return stream_; }
  /// Waits for all work queued on the stream; a failure of any of it throws here.
  void synchronize() const { RLHASH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

/// Makes `device` current for the scope and restores the previous device on exit, so that an
/// index bound to device 1 never leaves the caller's thread on device 1.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    RLHASH_CUDA_CHECK(cudaGetDevice(&previous_));
    if (device != previous_) RLHASH_CUDA_CHECK(cudaSetDevice(device));
    changed_ = device != previous_;
  }
  ~DeviceGuard() {
    if (changed_) (void)cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace rlhash::cuda
