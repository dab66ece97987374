// A driver for the authors' multi-index hashing code (norouzi/mih, TPAMI 2014), compiled against
// a checkout of it by tools/build-norouzi-mih.sh; nothing of that code is part of rlhash. It reads
// the .npy files that tools/bench-multi-index.py writes (uint8, N x bits/8, C order), builds the
// tables (mihasher::populate), answers the kNN queries (mihasher::batchquery) and, with
// `linscan`, runs the authors' linear scan (linscan_query) on the same codes. Prints one JSON
// line of wall-clock and CPU seconds; writes the 0-based neighbour indices (uint32, Q x k) to
// <out> so that the caller can check their distances against rlhash's exact answer.
//
//   norouzi_mih <db.npy> <queries.npy> <bits> <k> <m> <out> [linscan]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

// mihasher.h first: linscan.h relies on the types.h it includes.
#include "mihasher.h"

#include "linscan.h"

namespace {

/// The payload of a version 1/2/3 .npy file of uint8 with `row_bytes` bytes per row.
std::vector<UINT8> read_npy(const std::string& path, std::size_t row_bytes, std::size_t& rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not an .npy file");
  std::size_t header = 0;
  if (magic[6] == 1) {
    unsigned char len[2];
    in.read(reinterpret_cast<char*>(len), 2);
    header = len[0] | (len[1] << 8);
  } else {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    header = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<std::size_t>(len[3]) << 24);
  }
  std::string dict(header, '\0');
  in.read(&dict[0], static_cast<std::streamsize>(header));
  if (dict.find("|u1") == std::string::npos || dict.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": expected a C-order uint8 array");
  const auto begin = in.tellg();
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(in.tellg() - begin);
  in.seekg(begin);
  if (bytes % row_bytes != 0) throw std::runtime_error(path + ": payload is not a whole number of rows");
  rows = bytes / row_bytes;
  std::vector<UINT8> data(bytes);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(bytes));
  if (!in) throw std::runtime_error(path + ": truncated");
  return data;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: norouzi_mih <db.npy> <queries.npy> <bits> <k> <m> <out> [linscan]\n";
    return 2;
  }
  try {
    const int bits = std::atoi(argv[3]);
    const int k = std::atoi(argv[4]);
    const int m = std::atoi(argv[5]);
    if (bits <= 0 || bits % 8 != 0 || k <= 0 || m <= 0) throw std::runtime_error("bad bits, k or m");
    std::size_t n = 0, nq = 0;
    std::vector<UINT8> db = read_npy(argv[1], static_cast<std::size_t>(bits / 8), n);
    std::vector<UINT8> queries = read_npy(argv[2], static_cast<std::size_t>(bits / 8), nq);
    mihasher mih(bits, m);
    auto wall = std::chrono::steady_clock::now();
    double cpu = cpu_seconds();
    mih.populate(db.data(), static_cast<UINT32>(n), bits / 8);
    const double build_s = seconds_since(wall), build_cpu = cpu_seconds() - cpu;
    mih.setK(k);
    std::vector<UINT32> results(nq * static_cast<std::size_t>(k)),
        numres(nq * static_cast<std::size_t>(bits + 1));
    std::vector<qstat> stats(nq);
    wall = std::chrono::steady_clock::now();
    cpu = cpu_seconds();
    mih.batchquery(results.data(), numres.data(), stats.data(), queries.data(), static_cast<UINT32>(nq),
                   bits / 8);
    const double search_s = seconds_since(wall), search_cpu = cpu_seconds() - cpu;
    for (auto& r : results) r -= 1;  // batchquery returns 1-based indices
    std::printf(
        "{\"n\": %zu, \"queries\": %zu, \"m\": %d, \"build_s\": %.6f, \"build_cpu_s\": %.6f, "
        "\"search_s\": %.6f, \"search_cpu_s\": %.6f",
        n, nq, m, build_s, build_cpu, search_s, search_cpu);
    if (argc > 7 && std::string(argv[7]) == "linscan") {
      std::vector<UINT32> counter(nq * static_cast<std::size_t>(bits + 1)),
          scan(nq * static_cast<std::size_t>(k));
      wall = std::chrono::steady_clock::now();
      cpu = cpu_seconds();
      linscan_query(counter.data(), scan.data(), db.data(), queries.data(), static_cast<int>(n),
                    static_cast<UINT32>(nq), bits, static_cast<unsigned>(k), bits / 8, bits / 8);
      std::printf(", \"linscan_s\": %.6f, \"linscan_cpu_s\": %.6f", seconds_since(wall), cpu_seconds() - cpu);
    }
    std::printf("}\n");
    std::ofstream out(argv[6], std::ios::binary);
    out.write(reinterpret_cast<const char*>(results.data()),
              static_cast<std::streamsize>(results.size() * 4));
    if (!out) throw std::runtime_error(std::string(argv[6]) + ": cannot write");
  } catch (const std::exception& e) {
    std::cerr << "norouzi_mih: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
