#pragma once
/// \file
/// The library's exception types. Every message names the file or argument at fault, what was
/// expected and what was found.
#include <stdexcept>
#include <string>

namespace rlhash {

/// Base of every exception rlhash throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A function argument or option value is out of its domain (wrong shape, range, name).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file's contents do not follow its format (bad magic, truncated, header lies, checksum).
class FormatError : public Error {
 public:
  using Error::Error;
};

/// The operating system refused a file operation (open, read, write, rename).
class IoError : public Error {
 public:
  using Error::Error;
};

/// An operation was called in a state that does not allow it (encode before fit, ...).
class StateError : public Error {
 public:
  using Error::Error;
};

/// Training diverged (a non-finite loss or parameter); the message names the epoch and the remedy.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

/// An allocation sized by the input (a file, an option, a config field) failed; the message names
/// what was being allocated and how many bytes were asked for.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

namespace detail {
/// Throws `E` with `message` when `condition` is false; keeps call sites to one line.
template <class E = InvalidArgument>
inline void require(bool condition, const std::string& message) {
  if (!condition) throw E(message);
}
/// The same for a fixed message: no string is built unless it throws.
template <class E = InvalidArgument>
inline void require(bool condition, const char* message) {
  if (!condition) throw E(message);
}

/// Throws InvalidArgument "`where`: `what` is R x C, expected R' x C'" unless the shapes agree.
/// The message is built only on failure: layers check every forward and backward pass.
inline void require_shape(const char* where, const char* what, long long rows, long long cols,
                          long long expected_rows, long long expected_cols) {
  if (rows == expected_rows && cols == expected_cols) return;
  throw InvalidArgument(std::string(where) + ": " + what + " is " + std::to_string(rows) + " x " +
                        std::to_string(cols) + ", expected " + std::to_string(expected_rows) + " x " +
                        std::to_string(expected_cols));
}
}  // namespace detail

}  // namespace rlhash
