// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target for the SIP/SDP parser and the frame header parser. Built with libFuzzer when
// the compiler has it (clang -fsanitize=fuzzer); otherwise the main() below replays the
// checked-in corpus, so every build runs the seeds as a normal test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ringbridge/dp/packet.h"
#include "ringbridge/dp/sip_event.h"
#include "ringbridge/dp/sip_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-size copies so sanitizers see any read past the end.
  std::vector<char> buf(data, data + size);
  namespace sip = ringbridge::dp::sip;
  sip::message m;
  for (bool datagram : {true, false}) {
    if (sip::parse(buf.data(), buf.size(), datagram, &m) == sip::parse_status::ok) {
      ringbridge::dp::sip_event ev;
      ringbridge::dp::fill_event(m, &ev);
      if (m.length > size) __builtin_trap();
    }
  }
  sip::could_be_sip(buf.data(), buf.size());
  ringbridge::dp::l4_info li;
  if (ringbridge::dp::parse_l4(reinterpret_cast<const uint8_t*>(buf.data()),
                               static_cast<uint32_t>(buf.size()), &li) ==
          ringbridge::dp::l4_result::ok &&
      li.payload_offset + li.payload_len > size)
    __builtin_trap();
  return 0;
}

#ifndef RB_LIBFUZZER
int main(int argc, char** argv) {
  int files = 0;
  for (int i = 1; i < argc; i++) {
    DIR* d = opendir(argv[i]);
    if (d == nullptr) {
      std::fprintf(stderr, "cannot open corpus directory %s\n", argv[i]);
      return 1;
    }
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(std::string(argv[i]) + "/" + e->d_name, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      const std::string s = ss.str();
      // Every input, and every prefix of it, as fuzzers find truncations first.
      for (size_t n = 0; n <= s.size(); n += (s.size() > 400 ? 7 : 1))
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), n);
      files++;
    }
    closedir(d);
  }
  std::printf("replayed %d corpus files\n", files);
  return files > 0 ? 0 : 1;
}
#endif
