// SPDX-License-Identifier: BSD-3-Clause
// pcap and WAV files as written, read back (libpcap; the WAV header parsed here), and
// repaired after the cuts a crash leaves.
#include "ringbridge/media/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace ringbridge::media;

namespace {

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rb_media_files_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    _dir = tmpl;
  }
  void TearDown() override {
    for (const auto& f : _made) ::unlink(f.c_str());
    ::rmdir(_dir.c_str());
  }
  std::string path(const char* name) {
    _made.push_back(_dir + "/" + name);
    return _made.back();
  }
  std::string _dir;
  std::vector<std::string> _made;
};

std::vector<uint8_t> slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void spit(const std::string& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

uint64_t file_size(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint32_t le32(const std::vector<uint8_t>& b, size_t off) {
  return uint32_t{b[off]} | uint32_t{b[off + 1]} << 8 | uint32_t{b[off + 2]} << 16 |
         uint32_t{b[off + 3]} << 24;
}
uint16_t le16(const std::vector<uint8_t>& b, size_t off) {
  return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}

struct frame_read {
  uint64_t sec, usec, caplen, len;
  std::vector<uint8_t> data;
};

// Every record of a pcap as libpcap reads it; false if libpcap refuses the file or a record.
bool read_pcap(const std::string& p, std::vector<frame_read>* out, int* linktype, int* snaplen) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(p.c_str(), err);
  if (pc == nullptr) return false;
  *linktype = pcap_datalink(pc);
  *snaplen = pcap_snapshot(pc);
  pcap_pkthdr* h;
  const u_char* d;
  int rc;
  while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
    out->push_back({static_cast<uint64_t>(h->ts.tv_sec), static_cast<uint64_t>(h->ts.tv_usec),
                    h->caplen, h->len, std::vector<uint8_t>(d, d + h->caplen)});
  }
  pcap_close(pc);
  return rc == PCAP_ERROR_BREAK;  // end of file, not an error
}

std::vector<uint8_t> frame(size_t n, uint8_t seed) {
  std::vector<uint8_t> f(n);
  for (size_t i = 0; i < n; i++) f[i] = static_cast<uint8_t>(seed + i);
  return f;
}

// A pcap of three frames (60, 1000 cut to the 200-byte snaplen, 90 bytes).
std::string write_three(Files* t, const std::string& p) {
  pcap_writer w;
  std::string err;
  EXPECT_TRUE(w.open(p, 200, &err)) << err;
  EXPECT_TRUE(w.is_open());
  auto a = frame(60, 1), b = frame(1000, 2), c = frame(90, 3);
  EXPECT_TRUE(w.write(1700000000123456789ull, a.data(), a.size(), a.size(), &err)) << err;
  EXPECT_TRUE(w.write(1700000001000000000ull, b.data(), b.size(), 1514, &err)) << err;
  EXPECT_TRUE(w.write(1700000002999999999ull, c.data(), c.size(), c.size(), &err)) << err;
  EXPECT_EQ(w.frames(), 3u);
  EXPECT_EQ(w.bytes(), 24u + 16 + 60 + 16 + 200 + 16 + 90);
  EXPECT_TRUE(w.close(&err)) << err;
  EXPECT_FALSE(w.is_open());
  (void)t;
  return p;
}

}  // namespace

TEST_F(Files, PcapReadsBackWithLibpcap) {
  const auto p = write_three(this, path("a.pcap"));
  EXPECT_EQ(file_size(p), 24u + 16 + 60 + 16 + 200 + 16 + 90);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  std::vector<frame_read> got;
  int link = 0, snap = 0;
  ASSERT_TRUE(read_pcap(p, &got, &link, &snap));
  EXPECT_EQ(link, DLT_EN10MB);
  EXPECT_EQ(snap, 200);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].sec, 1700000000u);
  EXPECT_EQ(got[0].usec, 123456u);
  EXPECT_EQ(got[0].data, frame(60, 1));
  EXPECT_EQ(got[1].caplen, 200u);
  EXPECT_EQ(got[1].len, 1514u);
  auto b = frame(1000, 2);
  EXPECT_EQ(got[1].data, std::vector<uint8_t>(b.begin(), b.begin() + 200));
  EXPECT_EQ(got[2].usec, 999999u);
  EXPECT_EQ(repair_pcap(p, nullptr), repair_result::intact);
}

TEST_F(Files, PcapRepairCutsAtTheLastWholeRecord) {
  const auto p = write_three(this, path("cut.pcap"));
  const uint64_t two = 24u + 16 + 60 + 16 + 200;
  // Cut inside the third record's data, then inside its header.
  for (uint64_t size : {two + 16 + 45, two + 7}) {
    ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(size)), 0);
    std::string err;
    EXPECT_EQ(repair_pcap(p, &err), repair_result::repaired) << err;
    EXPECT_EQ(file_size(p), two);
    std::vector<frame_read> got;
    int link = 0, snap = 0;
    ASSERT_TRUE(read_pcap(p, &got, &link, &snap));
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(repair_pcap(p, &err), repair_result::intact);
  }
  // A record header that claims more than the snaplen: cut before it.
  auto bytes = slurp(p);
  bytes[24 + 16 + 60 + 8] = 0xFF;  // incl_len of record 2, low byte: 0x1FF > 200
  spit(p, bytes);
  EXPECT_EQ(repair_pcap(p, nullptr), repair_result::repaired);
  EXPECT_EQ(file_size(p), 24u + 16 + 60);
}

TEST_F(Files, PcapRepairOtherByteOrderAndQuarantine) {
  // A big-endian nanosecond pcap with one 4-byte record and 2 bytes of a next header.
  const std::vector<uint8_t> be = {0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0,    0,    0,    64,   0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,
                                   0,    0,    0,    4,    0, 0, 0, 4, 9, 9, 9, 9, 0, 0};
  const auto p = path("be.pcap");
  spit(p, be);
  EXPECT_EQ(repair_pcap(p, nullptr), repair_result::repaired);
  EXPECT_EQ(file_size(p), 24u + 16 + 4);
  EXPECT_EQ(repair_pcap(p, nullptr), repair_result::intact);

  const auto g = path("garbage.pcap");
  spit(g, std::vector<uint8_t>(100, 0x41));
  std::string err;
  EXPECT_EQ(repair_pcap(g, &err), repair_result::quarantine);
  EXPECT_NE(err.find("garbage.pcap"), std::string::npos);
  const auto s = path("short.pcap");
  spit(s, std::vector<uint8_t>(be.begin(), be.begin() + 20));
  EXPECT_EQ(repair_pcap(s, nullptr), repair_result::quarantine);
  EXPECT_EQ(file_size(s), 20u);  // quarantine leaves the file alone
}

TEST_F(Files, WriteErrorsAreReported) {
  // /dev/full: every write fails with ENOSPC, buffered or not.
  pcap_writer w;
  std::string err;
  ASSERT_TRUE(w.open("/dev/full", 65535, &err)) << err;
  auto big = frame(1500, 0);
  bool ok = true;
  for (int i = 0; i < 100 && ok; i++) ok = w.write(0, big.data(), big.size(), big.size(), &err);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(w.is_open());
  EXPECT_NE(err.find("No space"), std::string::npos) << err;

  pcap_writer small;
  ASSERT_TRUE(small.open("/dev/full", 65535, &err));
  EXPECT_TRUE(small.write(0, big.data(), 100, 100, &err));  // still in the buffer
  err.clear();
  EXPECT_FALSE(small.close(&err));
  EXPECT_NE(err.find("No space"), std::string::npos) << err;

  wav_writer wav;
  ASSERT_TRUE(wav.open("/dev/full", 8000, 2, &err));
  EXPECT_FALSE(wav.close(&err));
  EXPECT_FALSE(wav.open(path("nodir/x.wav"), 8000, 2, &err));
  EXPECT_NE(err.find("nodir/x.wav"), std::string::npos);
  EXPECT_FALSE(wav.write(nullptr, 0, &err));  // not open
}

namespace {

struct wav_info {
  uint32_t riff_size, fmt_size, rate, byte_rate, data_size;
  uint16_t format, channels, block_align, bits;
};

wav_info parse_wav(const std::vector<uint8_t>& b) {
  EXPECT_GE(b.size(), 44u);
  EXPECT_EQ(std::memcmp(b.data(), "RIFF", 4), 0);
  EXPECT_EQ(std::memcmp(b.data() + 8, "WAVEfmt ", 8), 0);
  EXPECT_EQ(std::memcmp(b.data() + 36, "data", 4), 0);
  return {le32(b, 4),  le32(b, 16), le32(b, 24), le32(b, 28), le32(b, 40),
          le16(b, 20), le16(b, 22), le16(b, 32), le16(b, 34)};
}

std::string write_wav(const std::string& p, size_t frames) {
  wav_writer w;
  std::string err;
  EXPECT_TRUE(w.open(p, 16000, 2, &err)) << err;
  std::vector<int16_t> s(2 * frames);
  for (size_t i = 0; i < s.size(); i++) s[i] = static_cast<int16_t>(i * 7 - 1000);
  EXPECT_TRUE(w.write(s.data(), frames, &err)) << err;
  EXPECT_EQ(w.frames(), frames);
  EXPECT_EQ(w.bytes(), 44 + 4 * frames);
  EXPECT_TRUE(w.close(&err)) << err;
  return p;
}

}  // namespace

TEST_F(Files, WavHeaderAndSamples) {
  const auto p = write_wav(path("a.wav"), 1000);
  const auto b = slurp(p);
  ASSERT_EQ(b.size(), 44u + 4000);
  const auto h = parse_wav(b);
  EXPECT_EQ(h.riff_size, b.size() - 8);
  EXPECT_EQ(h.fmt_size, 16u);
  EXPECT_EQ(h.format, 1);
  EXPECT_EQ(h.channels, 2);
  EXPECT_EQ(h.rate, 16000u);
  EXPECT_EQ(h.byte_rate, 64000u);
  EXPECT_EQ(h.block_align, 4);
  EXPECT_EQ(h.bits, 16);
  EXPECT_EQ(h.data_size, 4000u);
  EXPECT_EQ(static_cast<int16_t>(le16(b, 44)), -1000);
  EXPECT_EQ(static_cast<int16_t>(le16(b, 46)), -993);
  EXPECT_EQ(repair_wav(p, nullptr), repair_result::intact);
}

TEST_F(Files, WavRepairAfterACrash) {
  const auto p = write_wav(path("crash.wav"), 500);
  auto b = slurp(p);
  // What a crash leaves: sizes still 0 from open(), and half a frame at the end.
  std::fill(b.begin() + 4, b.begin() + 8, 0);
  std::fill(b.begin() + 40, b.begin() + 44, 0);
  b.insert(b.end(), {1, 2, 3});
  spit(p, b);
  std::string err;
  EXPECT_EQ(repair_wav(p, &err), repair_result::repaired) << err;
  const auto r = slurp(p);
  ASSERT_EQ(r.size(), 44u + 2000);
  const auto h = parse_wav(r);
  EXPECT_EQ(h.riff_size, r.size() - 8);
  EXPECT_EQ(h.data_size, 2000u);
  EXPECT_TRUE(std::equal(r.begin() + 44, r.end(), b.begin() + 44));
  EXPECT_EQ(repair_wav(p, &err), repair_result::intact);

  // Crashed right after open(): the header only, sizes 0 → an empty, valid WAV.
  const auto e = path("empty.wav");
  spit(e, std::vector<uint8_t>(b.begin(), b.begin() + 44));
  EXPECT_EQ(repair_wav(e, &err), repair_result::repaired) << err;
  EXPECT_EQ(parse_wav(slurp(e)).riff_size, 36u);
}

TEST_F(Files, WavQuarantine) {
  std::string err;
  const auto g = path("garbage.wav");
  spit(g, std::vector<uint8_t>(200, 0x55));
  EXPECT_EQ(repair_wav(g, &err), repair_result::quarantine);
  EXPECT_NE(err.find("garbage.wav"), std::string::npos);
  // 32-bit float samples: not what we write, not ours to fix.
  const auto f = write_wav(path("float.wav"), 10);
  auto b = slurp(f);
  b[20] = 3;
  b[34] = 32;
  spit(f, b);
  EXPECT_EQ(repair_wav(f, &err), repair_result::quarantine);
  // Cut inside the header.
  const auto s = path("short.wav");
  spit(s, std::vector<uint8_t>(b.begin(), b.begin() + 30));
  EXPECT_EQ(repair_wav(s, &err), repair_result::quarantine);
  EXPECT_EQ(repair_wav(path("missing.wav"), &err), repair_result::quarantine);
}
