// Helpers shared by the compliance unit tests: temp directories, files, the plug-in fixtures
// in testdata/plugins and a copy of the shipped config/ to modify.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "regiongate/compliance/plugin_manifest.hpp"

namespace rg::compliance::testing {

inline const std::filesystem::path kSourceDir = RG_SOURCE_DIR;
inline const std::filesystem::path kTestData = kSourceDir / "tests/unit/compliance/testdata";
inline const std::filesystem::path kShippedConfig = kSourceDir / "config";

/// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("rg-compliance-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

/// Replaces the first occurrence of `from` (which must exist) in a file.
inline void ReplaceInFile(const std::filesystem::path& path, const std::string& from,
                          const std::string& to) {
  std::string text = ReadText(path);
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "'" << from << "' not in " << path;
  text.replace(at, from.size(), to);
  WriteText(path, text);
}

/// The plug-in fixtures: qwen, openai, baidu (as their plugin.yaml.in, hash filled) and
/// deepseek (planned).
inline std::vector<PluginManifest> FixturePlugins() {
  std::vector<PluginManifest> plugins;
  for (const char* id : {"qwen", "openai", "baidu", "deepseek"}) {
    Result<PluginManifest> p = LoadPluginManifest(kTestData / "plugins" / id / "plugin.yaml");
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (p.ok()) plugins.push_back(*p);
  }
  return plugins;
}

/// Copies the shipped config/regions, config/registry and config/lexicons (which the regions'
/// content_policy names) into `dir`.
inline void CopyShippedConfig(const std::filesystem::path& dir) {
  for (const char* sub : {"regions", "registry", "lexicons"}) {
    std::filesystem::create_directories(dir / sub);
    std::filesystem::copy(kShippedConfig / sub, dir / sub,
                          std::filesystem::copy_options::recursive);
  }
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace rg::compliance::testing
