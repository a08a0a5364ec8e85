// SPDX-License-Identifier: BSD-3-Clause
// main() for fuzz targets built without libFuzzer: replays corpus directories (every file and
// every prefix of it) through LLVMFuzzerTestOneInput, so each build runs the seeds as a test.
#include <dirent.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional, as with libFuzzer: targets that need set-up (DPDK's EAL) define it.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

// One input in a buffer of exactly its size, so AddressSanitizer sees a read past the end.
void run_one(const std::string& s, size_t n) {
  std::vector<uint8_t> buf(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  LLVMFuzzerTestOneInput(buf.data(), buf.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  int files = 0;
  size_t runs = 0;
  for (int i = 1; i < argc; i++) {
    DIR* d = opendir(argv[i]);
    if (d == nullptr) {
      std::fprintf(stderr, "cannot open corpus directory %s\n", argv[i]);
      return 1;
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());  // the same order every time
    for (const auto& name : names) {
      std::ifstream f(std::string(argv[i]) + "/" + name, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      const std::string s = ss.str();
      // The input and its prefixes: fuzzers find truncations first. Long inputs in steps
      // so a corpus replays in seconds under the sanitizers.
      const size_t step = s.size() > 400 ? 7 : 1;
      for (size_t n = 0; n < s.size(); n += step, runs++) run_one(s, n);
      run_one(s, s.size());
      runs++;
      files++;
    }
  }
  std::printf("replayed %d corpus files (%zu inputs)\n", files, runs);
  return files > 0 ? 0 : 1;
}
