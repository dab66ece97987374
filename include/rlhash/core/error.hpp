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
}  // namespace detail

}  // namespace rlhash
