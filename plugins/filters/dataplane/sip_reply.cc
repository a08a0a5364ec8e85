// SPDX-License-Identifier: BSD-3-Clause
// Building SIP responses from a request (see sip_reply.h).
#include "ringbridge/filters/sip_reply.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include "ringbridge/sip/ascii.h"

namespace ringbridge::dp {

namespace {
enum class copy_as { skip, keep, to };

copy_as classify(std::string_view name) {
  if (iequal(name, "Via") || iequal(name, "v") || iequal(name, "From") || iequal(name, "f") ||
      iequal(name, "Call-ID") || iequal(name, "i") || iequal(name, "CSeq"))
    return copy_as::keep;
  if (iequal(name, "To") || iequal(name, "t")) return copy_as::to;
  return copy_as::skip;
}

// Does a To value carry a tag parameter (outside the <URI>)?
bool has_tag(std::string_view v) {
  const size_t gt = v.find('>');
  std::string_view params = gt == std::string_view::npos ? v : v.substr(gt + 1);
  for (size_t i = 0; i + 4 < params.size(); i++)
    if (params[i] == ';') {
      size_t j = i + 1;
      while (j < params.size() && (params[j] == ' ' || params[j] == '\t')) j++;
      if (params.size() - j >= 4 && iequal(params.substr(j, 3), "tag") &&
          (params[j + 3] == '=' || params[j + 3] == ' '))
        return true;
    }
  return false;
}

struct writer {
  char* out;
  size_t cap;
  size_t n = 0;
  bool ok = true;
  void put(std::string_view s) {
    if (!ok || s.size() > cap - n) {
      ok = false;
      return;
    }
    std::memcpy(out + n, s.data(), s.size());
    n += s.size();
  }
};
}  // namespace

size_t build_sip_response(std::string_view req, int code, std::string_view reason,
                          std::string_view to_tag, char* out, size_t cap) {
  writer w{out, cap};
  char status[48];
  std::snprintf(status, sizeof(status), "SIP/2.0 %d ", code);
  w.put(status);
  w.put(reason);
  w.put("\r\n");
  // Skip the request line.
  size_t i = req.find('\n');
  if (i == std::string_view::npos) return 0;
  i++;
  bool ended = false;
  while (i < req.size()) {
    size_t e = req.find('\n', i);
    if (e == std::string_view::npos) e = req.size();
    std::string_view line = req.substr(i, e - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      ended = true;
      break;
    }
    // A header with its continuation lines (folding) as one unit.
    size_t end = e;
    while (end + 1 < req.size() && (req[end + 1] == ' ' || req[end + 1] == '\t')) {
      const size_t ne = req.find('\n', end + 1);
      end = ne == std::string_view::npos ? req.size() : ne;
    }
    std::string_view header = req.substr(i, end - i);
    while (!header.empty() && (header.back() == '\r' || header.back() == '\n'))
      header.remove_suffix(1);
    const size_t colon = header.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = header.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      switch (classify(name)) {
        case copy_as::keep:
          w.put(header);
          w.put("\r\n");
          break;
        case copy_as::to:
          w.put(header);
          if (!has_tag(header.substr(colon + 1)) && !to_tag.empty()) {
            w.put(";tag=");
            w.put(to_tag);
          }
          w.put("\r\n");
          break;
        case copy_as::skip: break;
      }
    }
    i = end + 1;
  }
  if (!ended) return 0;
  w.put("Server: ringbridge\r\nContent-Length: 0\r\n\r\n");
  return w.ok ? w.n : 0;
}

}  // namespace ringbridge::dp
