// SPDX-License-Identifier: BSD-3-Clause
// The recording's pcap and WAV writers, and the repair of what a crash left of them.
#include "ringbridge/media/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ringbridge::media {

namespace {

static_assert(std::endian::native == std::endian::little,
              "WAV samples and the pcap header are written in host order, little-endian");

// pcap's file header (libpcap's savefile format): written in host order, which the magic
// tells readers.
constexpr uint32_t k_pcap_magic = 0xa1b2c3d4;
constexpr uint32_t k_pcap_magic_ns = 0xa1b23c4d;
constexpr uint32_t k_linktype_ethernet = 1;
// libpcap refuses records longer than this whatever the snaplen says (MAXIMUM_SNAPLEN).
constexpr uint32_t k_pcap_max_record = 262144;
constexpr size_t k_pcap_file_header = 24, k_pcap_record_header = 16;
constexpr size_t k_wav_header = 44;

void put16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}
void put32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
uint16_t get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool fail(std::string* error, const std::string& path, const char* what, int err) {
  if (error != nullptr) *error = path + ": " + what + ": " + std::strerror(err);
  return false;
}

// Opens PATH for writing, created 0640 (recordings are not for every local user), truncated.
std::FILE* create(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    fail(error, path, "cannot create", errno);
    return nullptr;
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    fail(error, path, "cannot open", errno);
    ::close(fd);
  }
  return f;
}

// fwrite that tells a short write; the buffered bytes of a failed file are not retried.
bool put(std::FILE* f, const void* p, size_t n) {
  return n == 0 || std::fwrite(p, 1, n, f) == n;
}

// Flushes and closes *F (always closed after); false with errno's text if anything failed.
bool finish(std::FILE** f, const std::string& path, std::string* error) {
  if (*f == nullptr) return true;
  int err = 0;
  if (std::fflush(*f) != 0 || std::ferror(*f) != 0) err = errno != 0 ? errno : EIO;
  if (std::fclose(*f) != 0 && err == 0) err = errno;
  *f = nullptr;
  return err == 0 || fail(error, path, "write failed", err);
}

// A write failed: close the file (its buffer is lost anyway) and report the first error.
bool abandon(std::FILE** f, const std::string& path, std::string* error) {
  const int err = errno != 0 ? errno : EIO;
  std::fclose(*f);
  *f = nullptr;
  return fail(error, path, "write failed", err);
}

// The file behind a repair: opened read-write, closed on scope exit.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

// pread/pwrite of all N bytes at OFF (short transfers resumed); false on error or EOF.
bool io_at(int fd, uint64_t off, uint8_t* p, size_t n, bool write) {
  while (n > 0) {
    const ssize_t got = write ? ::pwrite(fd, p, n, static_cast<off_t>(off))
                              : ::pread(fd, p, n, static_cast<off_t>(off));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    off += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
  return true;
}
bool read_at(int fd, uint64_t off, uint8_t* p, size_t n) {
  return io_at(fd, off, p, n, false);
}
bool write_at(int fd, uint64_t off, uint8_t* p, size_t n) {
  return io_at(fd, off, p, n, true);
}

// Opens PATH for repair and reads its size; false (error set) if it cannot.
bool open_for_repair(const std::string& path, fd_guard* g, uint64_t* size, std::string* error) {
  g->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (g->fd < 0) return fail(error, path, "cannot open", errno);
  struct stat st {};
  if (::fstat(g->fd, &st) != 0) return fail(error, path, "cannot stat", errno);
  *size = static_cast<uint64_t>(st.st_size);
  return true;
}

// The repair itself failed (I/O): nothing better to do with the file than set it aside.
repair_result repair_failed(const std::string& path, const char* what, std::string* error) {
  fail(error, path, what, errno);
  return repair_result::quarantine;
}

repair_result quarantine(const std::string& path, const char* why, std::string* error) {
  if (error != nullptr) *error = path + ": " + why;
  return repair_result::quarantine;
}

}  // namespace

pcap_writer::~pcap_writer() {
  close(nullptr);
}

bool pcap_writer::open(const std::string& path, uint32_t snaplen, std::string* error) {
  close(nullptr);
  _path = path;
  _snaplen = snaplen == 0 || snaplen > k_pcap_max_record ? k_pcap_max_record : snaplen;
  _bytes = _frames = 0;
  _f = create(path, error);
  if (_f == nullptr) return false;
  uint8_t h[k_pcap_file_header] = {};
  put32(h, k_pcap_magic);
  put16(h + 4, 2);  // version 2.4
  put16(h + 6, 4);
  // thiszone and sigfigs stay 0 (UTC, as every writer does)
  put32(h + 16, _snaplen);
  put32(h + 20, k_linktype_ethernet);
  if (!put(_f, h, sizeof h)) return abandon(&_f, _path, error);
  _bytes = sizeof h;
  return true;
}

bool pcap_writer::write(uint64_t unix_ns, const uint8_t* frame, size_t len, size_t orig_len,
                        std::string* error) {
  if (_f == nullptr) return fail(error, _path, "pcap not open", EBADF);
  const size_t caplen = len < _snaplen ? len : _snaplen;
  const uint64_t orig = orig_len > len ? orig_len : len;
  uint8_t h[k_pcap_record_header];
  put32(h, static_cast<uint32_t>(unix_ns / 1000000000));
  put32(h + 4, static_cast<uint32_t>(unix_ns % 1000000000 / 1000));
  put32(h + 8, static_cast<uint32_t>(caplen));
  put32(h + 12, orig > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(orig));
  if (!put(_f, h, sizeof h) || !put(_f, frame, caplen)) return abandon(&_f, _path, error);
  _bytes += sizeof h + caplen;
  _frames++;
  return true;
}

bool pcap_writer::close(std::string* error) {
  return finish(&_f, _path, error);
}

wav_writer::~wav_writer() {
  close(nullptr);
}

bool wav_writer::open(const std::string& path, unsigned rate, unsigned channels,
                      std::string* error) {
  close(nullptr);
  _path = path;
  _bytes = _frames = 0;
  if (rate == 0 || channels == 0 || channels > 8) {
    return fail(error, path, "bad WAV format (rate, channels)", EINVAL);
  }
  _rate = rate;
  _channels = channels;
  _f = create(path, error);
  if (_f == nullptr) return false;
  // The canonical 44-byte header; the RIFF and data sizes are fixed by close() or repair.
  uint8_t h[k_wav_header] = {};
  std::memcpy(h, "RIFF", 4);
  std::memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);
  put16(h + 20, 1);  // PCM
  put16(h + 22, static_cast<uint16_t>(channels));
  put32(h + 24, rate);
  put32(h + 28, rate * channels * 2);
  put16(h + 32, static_cast<uint16_t>(channels * 2));
  put16(h + 34, 16);
  std::memcpy(h + 36, "data", 4);
  if (!put(_f, h, sizeof h)) return abandon(&_f, _path, error);
  _bytes = sizeof h;
  return true;
}

bool wav_writer::write(const int16_t* interleaved, size_t frames, std::string* error) {
  if (_f == nullptr) return fail(error, _path, "WAV not open", EBADF);
  const uint64_t n = uint64_t{frames} * _channels * 2;
  // RIFF sizes are 32-bit: refuse what could not be described rather than lie.
  if (_bytes + n - 8 > UINT32_MAX) return fail(error, _path, "WAV would exceed 4 GiB", EFBIG);
  if (!put(_f, interleaved, n)) return abandon(&_f, _path, error);
  _bytes += n;
  _frames += frames;
  return true;
}

bool wav_writer::close(std::string* error) {
  if (_f == nullptr) return true;
  uint8_t v[4];
  put32(v, static_cast<uint32_t>(_bytes - 8));
  bool ok = std::fseek(_f, 4, SEEK_SET) == 0 && put(_f, v, 4);
  put32(v, static_cast<uint32_t>(_frames * _channels * 2));
  ok = ok && std::fseek(_f, 40, SEEK_SET) == 0 && put(_f, v, 4);
  if (!ok) return abandon(&_f, _path, error);
  return finish(&_f, _path, error);
}

repair_result repair_wav(const std::string& path, std::string* error) {
  fd_guard g;
  uint64_t size = 0;
  if (!open_for_repair(path, &g, &size, error)) return repair_result::quarantine;  // unreadable
  uint8_t riff[12];
  if (size < 12 || !read_at(g.fd, 0, riff, 12) || std::memcmp(riff, "RIFF", 4) != 0 ||
      std::memcmp(riff + 8, "WAVE", 4) != 0) {
    return quarantine(path, "not a RIFF/WAVE file", error);
  }
  // Walk the chunks to "data"; "fmt " must come first and say 16-bit PCM.
  uint64_t off = 12;
  unsigned block_align = 0;
  for (int i = 0; i < 64; i++) {
    uint8_t ch[8];
    if (off + 8 > size || !read_at(g.fd, off, ch, 8)) break;
    const uint32_t len = get32(ch + 4);
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      uint8_t fmt[16];
      if (len < 16 || off + 8 + 16 > size || !read_at(g.fd, off + 8, fmt, 16)) break;
      const unsigned channels = get16(fmt + 2);
      if (get16(fmt) != 1 || get16(fmt + 14) != 16 || channels == 0 ||
          get16(fmt + 12) != channels * 2) {
        return quarantine(path, "WAV format is not 16-bit PCM", error);
      }
      block_align = channels * 2;
    } else if (std::memcmp(ch, "data", 4) == 0) {
      if (block_align == 0) break;
      const uint64_t data = off + 8;
      const uint32_t riff_size = get32(riff + 4);
      // A header that describes the file (and maybe chunks after the data) is left alone.
      if (riff_size == size - 8 && len % block_align == 0 && data + len <= size &&
          (len > 0 || data == size)) {
        return repair_result::intact;
      }
      uint64_t bytes = (size - data) / block_align * block_align;
      const uint64_t max = (UINT32_MAX - data) / block_align * block_align;
      if (bytes > max) bytes = max;
      const uint64_t new_size = data + bytes;
      uint8_t v[4];
      put32(v, static_cast<uint32_t>(bytes));
      const bool ok_data = write_at(g.fd, off + 4, v, 4);
      put32(v, static_cast<uint32_t>(new_size - 8));
      if (!ok_data || !write_at(g.fd, 4, v, 4) ||
          (new_size != size && ::ftruncate(g.fd, static_cast<off_t>(new_size)) != 0) ||
          ::fsync(g.fd) != 0) {
        return repair_failed(path, "repair failed", error);
      }
      return repair_result::repaired;
    }
    off += 8 + uint64_t{len} + (len & 1);  // chunks are padded to even lengths
  }
  return quarantine(path, "no 16-bit PCM fmt chunk before a data chunk", error);
}

repair_result repair_pcap(const std::string& path, std::string* error) {
  fd_guard g;
  uint64_t size = 0;
  if (!open_for_repair(path, &g, &size, error)) return repair_result::quarantine;  // unreadable
  uint8_t h[k_pcap_file_header];
  if (size < sizeof h || !read_at(g.fd, 0, h, sizeof h)) {
    return quarantine(path, "shorter than a pcap file header", error);
  }
  const uint32_t magic = get32(h);
  const bool swapped =
      magic == __builtin_bswap32(k_pcap_magic) || magic == __builtin_bswap32(k_pcap_magic_ns);
  if (!swapped && magic != k_pcap_magic && magic != k_pcap_magic_ns) {
    return quarantine(path, "not a pcap file (magic)", error);
  }
  auto host32 = [swapped](const uint8_t* p) {
    const uint32_t v = get32(p);
    return swapped ? __builtin_bswap32(v) : v;
  };
  const uint32_t major = swapped ? __builtin_bswap16(get16(h + 4)) : get16(h + 4);
  if (major != 2) return quarantine(path, "not a pcap file (version)", error);
  uint32_t limit = host32(h + 16);
  if (limit == 0 || limit > k_pcap_max_record) limit = k_pcap_max_record;

  // Walk the record headers through a buffered reader: a big file costs a read, not a
  // system call per record.
  std::FILE* f = ::fdopen(::dup(g.fd), "rb");
  if (f == nullptr) return repair_failed(path, "cannot read", error);
  uint64_t good = sizeof h;
  ::fseeko(f, static_cast<off_t>(good), SEEK_SET);
  uint8_t r[k_pcap_record_header];
  while (std::fread(r, 1, sizeof r, f) == sizeof r) {
    const uint32_t incl = host32(r + 8);
    if (incl > limit || incl > size - good - sizeof r) break;
    if (::fseeko(f, static_cast<off_t>(incl), SEEK_CUR) != 0) break;
    good += sizeof r + incl;
  }
  std::fclose(f);
  if (good == size) return repair_result::intact;
  if (::ftruncate(g.fd, static_cast<off_t>(good)) != 0 || ::fsync(g.fd) != 0) {
    return repair_failed(path, "cannot cut", error);
  }
  return repair_result::repaired;
}

}  // namespace ringbridge::media
