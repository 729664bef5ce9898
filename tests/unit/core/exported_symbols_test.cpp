// Every plug-in exports exactly rg_plugin_entry (DESIGN rule 2): anything more can shadow
// another plug-in's symbols or, as a GNU-unique symbol, pin the library in memory. Checked
// on the vendor plug-ins in RG_PLUGIN_DIR and on the test plug-ins, without loading them;
// ExportedSymbols itself is checked against `nm -D --defined-only`.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "regiongate/core/plugin_loader.hpp"

namespace rg::core {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kEntryOnly = {"rg_plugin_entry"};

// Every rg-plugin-*.so one level below `dir` (each plug-in has its own folder).
std::vector<fs::path> PluginLibraries(const fs::path& dir) {
  std::vector<fs::path> libraries;
  std::error_code error;
  for (fs::directory_iterator it(dir, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    if (!it->is_directory()) continue;
    for (const auto& file : fs::directory_iterator(it->path())) {
      const std::string name = file.path().filename().string();
      if (name.starts_with("rg-plugin-") && name.ends_with(".so")) libraries.push_back(file);
    }
  }
  std::sort(libraries.begin(), libraries.end());
  return libraries;
}

// What `nm -D --defined-only` lists for `library` (names without @version), or nullopt when
// nm cannot be run here.
std::optional<std::set<std::string>> NmDefinedDynamic(const fs::path& library) {
  const std::string command = "nm -D --defined-only '" + library.string() + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
  if (!pipe) return std::nullopt;
  std::string output;
  char buffer[4096];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), pipe.get())) > 0)
    output.append(buffer, read);
  if (::pclose(pipe.release()) != 0) return std::nullopt;
  std::set<std::string> names;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t last_space = line.rfind(' ');
    std::string name = last_space == std::string::npos ? line : line.substr(last_space + 1);
    name = name.substr(0, name.find('@'));
    if (!name.empty()) names.insert(name);
  }
  return names;
}

TEST(ExportedSymbolsTest, EachVendorPluginExportsOnlyTheEntry) {
  const auto libraries = PluginLibraries(RG_PLUGIN_DIR);
  if (libraries.empty()) GTEST_SKIP() << "no vendor plug-in built in " << RG_PLUGIN_DIR;
  for (const auto& library : libraries) {
    const auto symbols = ExportedSymbols(library);
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_EQ(*symbols, kEntryOnly) << library;
  }
}

TEST(ExportedSymbolsTest, EachTestPluginBuiltWithRgAddPluginExportsOnlyTheEntry) {
  const fs::path dir = RG_TEST_PLUGIN_DIR;
  auto libraries = PluginLibraries(dir);
  const auto refusing = PluginLibraries(dir / "refusing");
  libraries.insert(libraries.end(), refusing.begin(), refusing.end());
  ASSERT_FALSE(libraries.empty()) << "no test plug-in built in " << dir;
  bool saw_echo = false;
  for (const auto& library : libraries) {
    if (library.filename() == "rg-plugin-no-entry.so") continue;  // linked by hand, see below
    saw_echo = saw_echo || library.filename() == "rg-plugin-echo.so";
    const auto symbols = ExportedSymbols(library);
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_EQ(*symbols, kEntryOnly) << library;
  }
  EXPECT_TRUE(saw_echo);
}

TEST(ExportedSymbolsTest, SeesASymbolOtherThanTheEntry) {
  const fs::path library =
      fs::path(RG_TEST_PLUGIN_DIR) / "refusing" / "no-entry" / "rg-plugin-no-entry.so";
  const auto symbols = ExportedSymbols(library);
  ASSERT_TRUE(symbols.ok()) << symbols.error().message;
  EXPECT_EQ(*symbols, std::vector<std::string>{"rg_plugin_init"});
}

// libstdc++ exports thousands of global, weak, GNU-unique and version symbols: a good
// reference for the .dynsym reader.
TEST(ExportedSymbolsTest, AgreesWithNmOnLibstdcxx) {
  Dl_info info{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&std::terminate), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  const fs::path library = info.dli_fname;
  const auto nm = NmDefinedDynamic(library);
  if (!nm) GTEST_SKIP() << "nm is not available";
  const auto symbols = ExportedSymbols(library);
  ASSERT_TRUE(symbols.ok()) << symbols.error().message;
  EXPECT_GT(symbols->size(), 1000u);
  EXPECT_EQ(std::set<std::string>(symbols->begin(), symbols->end()), *nm);
}

TEST(ExportedSymbolsTest, AgreesWithNmOnTheTestPlugins) {
  for (const fs::path& library :
       {fs::path(RG_TEST_PLUGIN_DIR) / "echo" / "rg-plugin-echo.so",
        fs::path(RG_TEST_PLUGIN_DIR) / "refusing" / "no-entry" / "rg-plugin-no-entry.so"}) {
    const auto nm = NmDefinedDynamic(library);
    if (!nm) GTEST_SKIP() << "nm is not available";
    const auto symbols = ExportedSymbols(library);
    ASSERT_TRUE(symbols.ok()) << symbols.error().message;
    EXPECT_EQ(std::set<std::string>(symbols->begin(), symbols->end()), *nm) << library;
  }
}

TEST(ExportedSymbolsTest, RefusesAFileThatIsNotElf) {
  const fs::path file =
      fs::temp_directory_path() / ("rg-symbols-test-" + std::to_string(::getpid()) + ".so");
  std::ofstream(file) << "not a library\n";
  const auto symbols = ExportedSymbols(file);
  fs::remove(file);
  ASSERT_FALSE(symbols.ok());
  EXPECT_EQ(symbols.error().id, "RG-L014");
  EXPECT_EQ(symbols.error().message,
            "cannot read the exported symbols of " + file.string() +
                ": not an ELF file; pass an ELF shared library built for this platform");
}

// The reader takes files from plug-in folders: damaged ones must give an error or a list,
// never a crash or a read out of bounds (the asan preset checks the latter).
TEST(ExportedSymbolsTest, SurvivesTruncatedAndCorruptedLibraries) {
  std::ifstream in(fs::path(RG_TEST_PLUGIN_DIR) / "refusing" / "mismatch" / "rg-plugin-mismatch.so",
                   std::ios::binary);
  std::ostringstream original_stream;
  original_stream << in.rdbuf();
  const std::string original = original_stream.str();
  ASSERT_GT(original.size(), 8192u);
  const fs::path file =
      fs::temp_directory_path() / ("rg-symbols-fuzz-" + std::to_string(::getpid()) + ".so");
  const auto check = [&file](const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    const auto symbols = ExportedSymbols(file);
    if (!symbols.ok()) {
      EXPECT_EQ(symbols.error().id, "RG-L014");
    }
  };
  for (size_t size = 0; size < original.size(); size += 1 + size / 8) {
    check(original.substr(0, size));
  }
  // Corrupt the ELF header, the first 4 KiB (.dynsym, .dynstr) and the last 4 KiB (section
  // headers) with a fixed-seed generator.
  std::minstd_rand random(20240601);
  const size_t tail = original.size() - 4096;
  for (int round = 0; round < 300; ++round) {
    std::string bytes = original;
    for (int flip = 0; flip < 8; ++flip) {
      const size_t at = round % 3 == 0   ? random() % 64
                        : round % 3 == 1 ? random() % 4096
                                         : tail + random() % 4096;
      bytes[at] = static_cast<char>(random() & 0xFF);
    }
    check(bytes);
  }
  fs::remove(file);
}

TEST(ExportedSymbolsTest, RefusesAMissingFile) {
  const auto symbols = ExportedSymbols("/nonexistent/rg-plugin-x.so");
  ASSERT_FALSE(symbols.ok());
  EXPECT_EQ(symbols.error().id, "RG-L014");
  EXPECT_EQ(symbols.error().message,
            "cannot read the exported symbols of /nonexistent/rg-plugin-x.so: No such file or "
            "directory; pass an ELF shared library built for this platform");
}

}  // namespace
}  // namespace rg::core
