#pragma once
// A folder every rank of the test job sees: created by rank 0, removed by it when all ranks are done.
#include <memory>
#include <string>
#include <test_util.hpp>

#include "rlhash/dist/communicator.hpp"

namespace rlhash::test {

class SharedDir {
 public:
  explicit SharedDir(const dist::Communicator& comm) : comm_(comm) {
    if (comm.rank() == 0) owned_ = std::make_unique<TempDir>();
    path_ = comm.broadcast(owned_ ? owned_->path().string() : std::string(), 0);
  }
  ~SharedDir() { comm_.barrier(); }
  SharedDir(const SharedDir&) = delete;
  SharedDir& operator=(const SharedDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  const dist::Communicator& comm_;
  std::unique_ptr<TempDir> owned_;
  std::string path_;
};

}  // namespace rlhash::test
