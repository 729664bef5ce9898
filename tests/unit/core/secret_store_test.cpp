// Secrets come from the environment or named files, and every value handed out is redacted
// from text that would otherwise leave the process.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "regiongate/core/secret_store.hpp"

namespace {

TEST(SecretStore, ReadsEnvironmentAndRedactsWhatItHandedOut) {
  ::setenv("RG_TEST_SECRET_ENV", "sk-test-1234567890", 1);
  rg::core::SecretStore store;
  EXPECT_EQ(store.Get("RG_TEST_SECRET_ENV"), "sk-test-1234567890");
  EXPECT_FALSE(store.Get("RG_TEST_SECRET_UNSET_42").has_value());
  std::string line = "calling with key sk-test-1234567890 now";
  EXPECT_TRUE(store.Redact(&line));
  EXPECT_EQ(line, "calling with key [redacted] now");
  std::string clean = "nothing secret here";
  EXPECT_FALSE(store.Redact(&clean));
}

TEST(SecretStore, FileTakesPrecedenceAndTrailingNewlineIsStripped) {
  const auto path = std::filesystem::temp_directory_path() / "rg_secret_store_test.txt";
  std::ofstream(path) << "from-file-secret\n";
  ::setenv("RG_TEST_SECRET_FILE", "from-env", 1);
  rg::core::SecretStore::Options options;
  options.files["RG_TEST_SECRET_FILE"] = path;
  rg::core::SecretStore store(options);
  EXPECT_EQ(store.Get("RG_TEST_SECRET_FILE"), "from-file-secret");
  std::filesystem::remove(path);
  rg::core::SecretStore::Options missing;
  missing.files["RG_TEST_SECRET_FILE"] = path;
  rg::core::SecretStore store2(missing);
  EXPECT_FALSE(store2.Get("RG_TEST_SECRET_FILE").has_value());
}

TEST(SecretStore, EmptyValueCountsAsMissing) {
  ::setenv("RG_TEST_SECRET_EMPTY", "", 1);
  rg::core::SecretStore store;
  EXPECT_FALSE(store.Get("RG_TEST_SECRET_EMPTY").has_value());
}

}  // namespace
