#include "regiongate/compliance/sha256.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

namespace rg::compliance {
namespace {

constexpr std::array<uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr size_t kBlockSize = 64;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

class Sha256 {
 public:
  void Update(const unsigned char* data, size_t size) {
    bits_ += static_cast<uint64_t>(size) * 8;
    while (size > 0) {
      if (fill_ == 0 && size >= kBlockSize) {  // whole blocks straight from the input
        Compress(data);
        data += kBlockSize;
        size -= kBlockSize;
        continue;
      }
      const size_t take = std::min(size, kBlockSize - fill_);
      std::memcpy(block_.data() + fill_, data, take);
      fill_ += take;
      data += take;
      size -= take;
      if (fill_ == kBlockSize) {
        Compress(block_.data());
        fill_ = 0;
      }
    }
  }

  std::string HexDigest() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : Digest()) {
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
    return out;
  }

  std::array<unsigned char, 32> Digest() {
    const uint64_t bits = bits_;
    const unsigned char pad = 0x80;
    Update(&pad, 1);
    const unsigned char zero = 0;
    while (fill_ != 56) Update(&zero, 1);
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    Update(length, 8);
    std::array<unsigned char, 32> out{};
    for (size_t i = 0; i < 8; ++i) {
      for (size_t b = 0; b < 4; ++b) {
        out[4 * i + b] = static_cast<unsigned char>(h_[i] >> (24 - 8 * b));
      }
    }
    return out;
  }

 private:
  void Compress(const unsigned char* block) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (static_cast<uint32_t>(block[4 * i]) << 24) |
             (static_cast<uint32_t>(block[4 * i + 1]) << 16) |
             (static_cast<uint32_t>(block[4 * i + 2]) << 8) | block[4 * i + 3];
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = h + s1 + ch + kK[static_cast<size_t>(i)] + w[i];
      const uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::array<uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<unsigned char, kBlockSize> block_ = {};
  size_t fill_ = 0;
  uint64_t bits_ = 0;
};

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return sha.HexDigest();
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  // RFC 2104 with a 64-byte block: keys longer than a block are hashed first.
  std::array<unsigned char, 64> block{};
  if (key.size() > block.size()) {
    Sha256 sha;
    sha.Update(reinterpret_cast<const unsigned char*>(key.data()), key.size());
    const std::array<unsigned char, 32> digest = sha.Digest();
    std::copy(digest.begin(), digest.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<unsigned char, 64> pad{};
  for (size_t i = 0; i < block.size(); ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x36);
  Sha256 inner;
  inner.Update(pad.data(), pad.size());
  inner.Update(reinterpret_cast<const unsigned char*>(message.data()), message.size());
  const std::array<unsigned char, 32> inner_digest = inner.Digest();
  for (size_t i = 0; i < block.size(); ++i) pad[i] = static_cast<unsigned char>(block[i] ^ 0x5c);
  Sha256 outer;
  outer.Update(pad.data(), pad.size());
  outer.Update(inner_digest.data(), inner_digest.size());
  return outer.HexDigest();
}

std::optional<std::string> Sha256OfFile(const std::filesystem::path& path, std::string* hex) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return ErrnoText(errno);
  Sha256 sha;
  std::array<unsigned char, size_t{64} * 1024> buffer;
  size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    sha.Update(buffer.data(), read);
  }
  // fopen succeeds on a directory; the read then fails with EISDIR.
  if (std::ferror(file.get()) != 0) return ErrnoText(errno != 0 ? errno : EIO);
  *hex = sha.HexDigest();
  return std::nullopt;
}

Result<std::string> Sha256File(const std::filesystem::path& path) {
  std::string hex;
  if (const auto reason = Sha256OfFile(path, &hex)) {
    return Error{"RG-M001", "cannot read '" + path.string() + "': " + *reason +
                                "; check the path and permissions"};
  }
  return hex;
}

}  // namespace rg::compliance
