// SHA-256 against the FIPS 180-2 test vectors and a file.
#include "regiongate/compliance/sha256.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace rg::compliance {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, FileMatchesBytes) {
  testing::TempDir dir;
  const std::string bytes(70000, 'x');
  testing::WriteText(dir.path() / "f.bin", bytes);
  Result<std::string> hash = Sha256File(dir.path() / "f.bin");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, Sha256Hex(bytes));
  Result<std::string> missing = Sha256File(dir.path() / "missing.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().id, "RG-M001");
}

// Callers word their own refusal (the plug-in loader's RG-L002), so they get the bare reason.
TEST(Sha256Test, FileReasonIsTheSystemsWords) {
  testing::TempDir dir;
  std::string hex = "untouched";
  EXPECT_EQ(Sha256OfFile(dir.path() / "missing.bin", &hex), "No such file or directory");
  EXPECT_EQ(Sha256OfFile(dir.path(), &hex), "Is a directory");
  EXPECT_EQ(hex, "untouched");
  testing::WriteText(dir.path() / "abc.txt", "abc");
  EXPECT_EQ(Sha256OfFile(dir.path() / "abc.txt", &hex), std::nullopt);
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace rg::compliance
