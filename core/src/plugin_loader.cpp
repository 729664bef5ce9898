#include "regiongate/core/plugin_loader.hpp"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <type_traits>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/dll/shared_library.hpp>
#include <nlohmann/json.hpp>

#include "regiongate/compliance/sha256.hpp"

namespace rg::core {
namespace {

namespace fs = std::filesystem;
using compliance::PluginManifest;

// Enough of the table to read the version it speaks; the rest of the layout depends on it.
constexpr size_t kPluginHeaderSize = offsetof(rg_plugin, abi_minor) + sizeof(uint16_t);
// Everything ABI 1.0 defines; later 1.x minors may only append.
constexpr size_t kPluginV1Size = offsetof(rg_plugin, shutdown) + sizeof(rg_plugin::shutdown);

using EntryFunction = std::remove_pointer_t<rg_plugin_entry_fn>;

// What the entry of one library did; recorded because the entry runs once per process.
struct EntryOutcome {
  bool threw = false;
  std::optional<std::string> exception_what;  // set for std::exception
  rg_code code = RG_OK;
  const rg_plugin* table = nullptr;
  const rg_host_services* services = nullptr;
};

struct LibraryRecord {
  std::shared_ptr<boost::dll::shared_library> library;
  std::optional<EntryOutcome> entry;
};

// Process-wide because dlopen hands every loader the same handle for the same file, and a
// plug-in's entry must run only once per process. Deliberately leaked: destroying it at exit
// would dlclose libraries whose code other static destructors may still reach.
struct Registry {
  std::mutex load_lock;  // the one load lock: every dlopen and entry call runs under it
  std::map<void*, LibraryRecord> libraries;  // by dlopen handle; never erased
};

Registry& GlobalRegistry() {
  static auto* registry = new Registry();
  return *registry;
}

std::string Quote(const fs::path& path) { return path.string(); }

std::string AbiString(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string& HostAbi() {
  static const std::string host = AbiString(RG_ABI_VERSION_MAJOR, RG_ABI_VERSION_MINOR);
  return host;
}

std::string CodeName(rg_code code) {
  switch (code) {
    case RG_OK:
      return "RG_OK";
    case RG_ERR_RETRYABLE:
      return "RG_ERR_RETRYABLE";
    case RG_ERR_AUTH:
      return "RG_ERR_AUTH";
    case RG_ERR_RATE_LIMITED:
      return "RG_ERR_RATE_LIMITED";
    case RG_ERR_INVALID_REQUEST:
      return "RG_ERR_INVALID_REQUEST";
    case RG_ERR_PROVIDER_BLOCKED:
      return "RG_ERR_PROVIDER_BLOCKED";
    case RG_ERR_UNAVAILABLE:
      return "RG_ERR_UNAVAILABLE";
    case RG_ERR_CANCELLED:
      return "RG_ERR_CANCELLED";
    case RG_ERR_INTERNAL:
      return "RG_ERR_INTERNAL";
    case RG_ERR_PROTOCOL:
      return "RG_ERR_PROTOCOL";
    case RG_ERR_EGRESS_DENIED:
      return "RG_ERR_EGRESS_DENIED";
    default:
      return "an unknown code";
  }
}

std::string JoinBracketed(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out + "]";
}

class Refuser {
 public:
  Refuser(const PluginManifest& manifest, LoadRefusal* refusal)
      : manifest_(manifest), refusal_(refusal) {}

  std::nullptr_t operator()(std::string_view id, const std::string& what) const {
    refusal_->plugin = manifest_.id;
    refusal_->manifest = manifest_.manifest_path;
    refusal_->id = std::string(id);
    refusal_->message = "plug-in '" + manifest_.id + "': " + what;
    spdlog::debug("plug-in loader: refused {}: {}", refusal_->id, refusal_->message);
    return nullptr;
  }

 private:
  const PluginManifest& manifest_;
  LoadRefusal* refusal_;
};

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Null when the table holds every member ABI 1.0 requires; else the names of the NULL ones.
std::vector<std::string> NullRequiredMembers(const rg_plugin& table) {
  std::vector<std::string> missing;
  if (table.id == nullptr) missing.emplace_back("id");
  if (table.version == nullptr) missing.emplace_back("version");
  if (table.vendor == nullptr) missing.emplace_back("vendor");
  if (table.description_json == nullptr) missing.emplace_back("description_json");
  if (table.instance_create == nullptr) missing.emplace_back("instance_create");
  if (table.instance_destroy == nullptr) missing.emplace_back("instance_destroy");
  if (table.complete == nullptr) missing.emplace_back("complete");
  return missing;
}

struct Description {
  std::set<std::string> models;
  std::set<std::string> endpoints;
  std::set<std::string> capabilities;
};

// Parses description_json; on failure returns why, for the RG-L008 message.
std::optional<std::string> ParseDescription(const char* text, Description* out) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return "invalid JSON at byte " + std::to_string(e.byte);
  }
  if (!json.is_object()) return std::string("not a JSON object");
  const std::pair<const char*, std::set<std::string>*> keys[] = {
      {"models", &out->models},
      {"endpoints", &out->endpoints},
      {"capabilities", &out->capabilities}};
  for (const auto& [key, set] : keys) {
    const auto it = json.find(key);
    if (it == json.end()) return "'" + std::string(key) + "' is missing";
    if (!it->is_array()) return "'" + std::string(key) + "' is not a list of strings";
    for (const auto& item : *it) {
      if (!item.is_string()) return "'" + std::string(key) + "' is not a list of strings";
      set->insert(item.get<std::string>());
    }
  }
  return std::nullopt;
}

// "models: only in the library [a], only in the manifest [b]" or "" when the sets agree.
std::string SetDifference(std::string_view what, const std::set<std::string>& library,
                          const std::set<std::string>& manifest) {
  std::vector<std::string> only_library;
  std::vector<std::string> only_manifest;
  std::set_difference(library.begin(), library.end(), manifest.begin(), manifest.end(),
                      std::back_inserter(only_library));
  std::set_difference(manifest.begin(), manifest.end(), library.begin(), library.end(),
                      std::back_inserter(only_manifest));
  if (only_library.empty() && only_manifest.empty()) return "";
  std::string out = std::string(what) + ":";
  if (!only_library.empty()) out += " only in the library " + JoinBracketed(only_library);
  if (!only_library.empty() && !only_manifest.empty()) out += ",";
  if (!only_manifest.empty()) out += " only in the manifest " + JoinBracketed(only_manifest);
  return out;
}

std::string FieldDifference(std::string_view what, std::string_view library,
                            std::string_view manifest) {
  if (library == manifest) return "";
  return std::string(what) + " is '" + std::string(library) + "' in the library but '" +
         std::string(manifest) + "' in the manifest";
}

// Everything on which the library's own table and description disagree with the manifest.
std::vector<std::string> Disagreements(const rg_plugin& table, const Description& description,
                                       const PluginManifest& manifest) {
  std::set<std::string> models;
  for (const auto& model : manifest.models) models.insert(model.id);
  std::set<std::string> endpoints;
  for (const auto& endpoint : manifest.endpoints) endpoints.insert(endpoint.id);
  const std::set<std::string> capabilities(manifest.capabilities.begin(),
                                           manifest.capabilities.end());
  std::vector<std::string> out;
  for (std::string difference :
       {FieldDifference("id", table.id, manifest.id),
        FieldDifference("version", table.version, manifest.version),
        FieldDifference("vendor", table.vendor, manifest.vendor),
        SetDifference("models", description.models, models),
        SetDifference("endpoints", description.endpoints, endpoints),
        SetDifference("capabilities", description.capabilities, capabilities)}) {
    if (!difference.empty()) out.push_back(std::move(difference));
  }
  return out;
}

template <class T>
bool ReadAt(const std::string& data, uint64_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

// Reads .dynsym of an ELF image of one class; `reason` says why when it returns false.
template <class Ehdr, class Shdr, class Sym>
bool ReadDynamicSymbols(const std::string& data, std::vector<std::string>* symbols,
                        std::string* reason) {
  Ehdr header;
  if (!ReadAt(data, 0, &header)) {
    *reason = "truncated ELF header";
    return false;
  }
  if (header.e_type != ET_DYN) {
    *reason = "not a shared library (ELF type " + std::to_string(header.e_type) + ")";
    return false;
  }
  if (header.e_shnum == 0) return true;  // no section headers: nothing to list
  if (header.e_shentsize != sizeof(Shdr)) {
    *reason = "malformed ELF: unexpected section header size";
    return false;
  }
  std::vector<Shdr> sections(header.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i) {
    if (!ReadAt(data, header.e_shoff + i * sizeof(Shdr), &sections[i])) {
      *reason = "malformed ELF: section headers lie outside the file";
      return false;
    }
  }
  for (const Shdr& section : sections) {
    if (section.sh_type != SHT_DYNSYM) continue;
    if (section.sh_link >= sections.size()) {
      *reason = "malformed ELF: .dynsym names no string table";
      return false;
    }
    const Shdr& strings = sections[section.sh_link];
    if (strings.sh_offset > data.size() || data.size() - strings.sh_offset < strings.sh_size ||
        section.sh_offset > data.size() || data.size() - section.sh_offset < section.sh_size) {
      *reason = "malformed ELF: .dynsym lies outside the file";
      return false;
    }
    const std::string_view names(data.data() + strings.sh_offset, strings.sh_size);
    const uint64_t count = section.sh_size / sizeof(Sym);
    for (uint64_t i = 1; i < count; ++i) {  // entry 0 is the reserved null symbol
      Sym symbol;
      (void)ReadAt(data, section.sh_offset + i * sizeof(Sym), &symbol);  // in range: checked above
      const unsigned bind = static_cast<unsigned>(symbol.st_info) >> 4;
      if (symbol.st_shndx == SHN_UNDEF) continue;
      if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
      if (symbol.st_name >= names.size()) {
        *reason = "malformed ELF: a symbol name lies outside .dynstr";
        return false;
      }
      const std::string_view rest = names.substr(symbol.st_name);
      const std::string_view name = rest.substr(0, rest.find('\0'));
      if (!name.empty()) symbols->emplace_back(name);
    }
    return true;
  }
  return true;  // no .dynsym: exports nothing
}

}  // namespace

Result<std::string> Sha256File(const fs::path& path) {
  std::string hex;
  if (const auto reason = compliance::Sha256OfFile(path, &hex)) {
    return Error{std::string(loader_error::kLibraryMissing),
                 "cannot read " + Quote(path) + " (" + *reason + ")"};
  }
  return hex;
}

Result<std::vector<std::string>> ExportedSymbols(const fs::path& path) {
  const auto fail = [&path](const std::string& reason) {
    return Error{std::string(loader_error::kSymbolsUnreadable),
                 "cannot read the exported symbols of " + Quote(path) + ": " + reason +
                     "; pass an ELF shared library built for this platform"};
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fail(ErrnoText(errno));
  std::string data;
  std::array<char, size_t{64} * 1024> buffer;
  size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    data.append(buffer.data(), read);
  }
  if (std::ferror(file.get()) != 0) return fail(ErrnoText(errno != 0 ? errno : EIO));

  if (data.size() < EI_NIDENT || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0) {
    return fail("not an ELF file");
  }
  const auto elf_class = static_cast<unsigned char>(data[EI_CLASS]);
  const auto elf_data = static_cast<unsigned char>(data[EI_DATA]);
  constexpr unsigned char kNativeData =
      std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
  if (elf_data != kNativeData) return fail("ELF byte order differs from this machine's");
  std::vector<std::string> symbols;
  std::string reason;
  bool ok = false;
  if (elf_class == ELFCLASS64) {
    ok = ReadDynamicSymbols<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(data, &symbols, &reason);
  } else if (elf_class == ELFCLASS32) {
    ok = ReadDynamicSymbols<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(data, &symbols, &reason);
  } else {
    reason = "unknown ELF class";
  }
  if (!ok) return fail(reason);
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  return symbols;
}

PluginLoader::PluginLoader(ServicesFactory services_factory)
    : services_factory_(std::move(services_factory)) {}

// Never unloads (DESIGN rule 9): the registry keeps every library mapped.
PluginLoader::~PluginLoader() = default;

LoadReport PluginLoader::LoadDirectory(const fs::path& dir) {
  LoadReport report;
  std::vector<fs::path> manifests;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const fs::path& path = it->path();
    std::error_code ignored;
    if (it->is_directory(ignored)) {
      const fs::path manifest = path / "plugin.yaml";
      if (fs::is_regular_file(manifest, ignored)) manifests.push_back(manifest);
    } else if (path.filename().string().ends_with(".plugin.yaml")) {
      manifests.push_back(path);
    }
  }
  if (error) {
    report.refused.push_back(
        LoadRefusal{dir.string(), fs::path(), std::string(loader_error::kDirectoryUnreadable),
                    "plug-in directory " + Quote(dir) + " cannot be read (" + error.message() +
                        "); check the plug-in directory in the host configuration"});
    return report;
  }
  std::sort(manifests.begin(), manifests.end());
  for (const fs::path& manifest : manifests) {
    LoadRefusal refusal;
    std::shared_ptr<const LoadedPlugin> plugin;
    {
      std::lock_guard lock(GlobalRegistry().load_lock);
      plugin = LoadLocked(manifest, &refusal);
    }
    if (plugin) {
      report.loaded.push_back(std::move(plugin));
    } else {
      report.refused.push_back(std::move(refusal));
    }
  }
  return report;
}

Result<std::shared_ptr<const LoadedPlugin>> PluginLoader::LoadManifest(const fs::path& manifest) {
  LoadRefusal refusal;
  std::lock_guard lock(GlobalRegistry().load_lock);
  auto plugin = LoadLocked(manifest, &refusal);
  if (!plugin) return Error{std::move(refusal.id), std::move(refusal.message)};
  return plugin;
}

std::vector<std::shared_ptr<const LoadedPlugin>> PluginLoader::Loaded() const {
  std::lock_guard lock(mutex_);
  return loaded_;
}

std::shared_ptr<const LoadedPlugin> PluginLoader::Find(std::string_view plugin_id) const {
  std::lock_guard lock(mutex_);
  for (const auto& plugin : loaded_) {
    if (plugin->manifest.id == plugin_id) return plugin;
  }
  return nullptr;
}

std::shared_ptr<const LoadedPlugin> PluginLoader::LoadLocked(const fs::path& manifest_path,
                                                             LoadRefusal* refusal) {
  spdlog::debug("plug-in loader: reading {}", Quote(manifest_path));
  // 1. The manifest, with every diagnostic the parser found.
  auto parsed = compliance::LoadPluginManifest(manifest_path);
  if (!parsed) {
    *refusal = LoadRefusal{
        manifest_path.string(), manifest_path, std::string(loader_error::kManifestInvalid),
        "plug-in manifest " + Quote(manifest_path) +
            " is invalid; fix the errors below and load it again:\n" + parsed.error().message};
    return nullptr;
  }
  PluginManifest& manifest = parsed.value();
  const Refuser refuse(manifest, refusal);
  const std::string manifest_name = Quote(manifest.manifest_path);

  // 11. A duplicate id, before any file of the second copy is hashed or opened.
  if (const auto existing = Find(manifest.id)) {
    return refuse(loader_error::kDuplicateId,
                  "already loaded from " + Quote(existing->manifest.manifest_path) +
                      ", so the copy in " + manifest_name +
                      " is refused; remove one of the copies or give it another id");
  }

  // Boost.DLL 1.74 rewrites a bare name to "./name": only ever hand it an absolute path.
  std::error_code error;
  const fs::path library_path = manifest.library_path.is_absolute()
                                    ? manifest.library_path
                                    : fs::absolute(manifest.library_path, error);
  const std::string library_name = Quote(library_path);

  // 2. The library file.
  if (!fs::exists(library_path, error)) {
    return refuse(loader_error::kLibraryMissing,
                  "library " + library_name + " named in " + manifest_name +
                      " does not exist; build or install the plug-in, or fix 'library' in the "
                      "manifest");
  }

  // 3. Its sha256, before any of its code can run.
  std::string sha256;
  if (const auto reason = compliance::Sha256OfFile(library_path, &sha256)) {
    return refuse(loader_error::kLibraryMissing, "library " + library_name + " named in " +
                                                     manifest_name + " cannot be read (" + *reason +
                                                     "); check the file and its permissions");
  }
  if (sha256 != manifest.sha256) {
    return refuse(loader_error::kHashMismatch,
                  "sha256 of " + library_name + " is " + sha256 + " but " + manifest_name +
                      " says " + manifest.sha256 +
                      "; the library changed after its manifest was written: rebuild the "
                      "plug-in (the build writes sha256) or install the library and manifest "
                      "together");
  }

  // 4. The ABI range the manifest declares, still before dlopen.
  if (manifest.abi.major != RG_ABI_VERSION_MAJOR) {
    return refuse(
        loader_error::kManifestAbiExcludesHost,
        manifest_name + " declares ABI " + AbiString(manifest.abi.major, manifest.abi.min_minor) +
            " to " + AbiString(manifest.abi.major, manifest.abi.max_minor) +
            " but this host speaks ABI " + HostAbi() + "; install a build of the plug-in for ABI " +
            std::to_string(RG_ABI_VERSION_MAJOR) + ".x");
  }
  if (manifest.abi.min_minor > RG_ABI_VERSION_MINOR) {
    return refuse(loader_error::kManifestAbiExcludesHost,
                  manifest_name + " requires ABI " +
                      AbiString(manifest.abi.major, manifest.abi.min_minor) +
                      " or newer but this host speaks ABI " + HostAbi() +
                      "; upgrade regiongate or install an older build of the plug-in");
  }

  // 5. dlopen. RTLD_NOW fails here, not mid-request, on an unresolved symbol.
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code load_error;
  library->load(boost::dll::fs::path(library_path.native()),
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
  if (load_error || !library->is_loaded()) {
    // The error_code overload keeps dlerror() unread (Boost 1.74); it is the useful part.
    const char* dl_text = ::dlerror();
    return refuse(loader_error::kDlopenFailed,
                  "cannot load " + library_name + ": " +
                      (dl_text != nullptr ? std::string(dl_text) : load_error.message()) +
                      "; check that it is a shared library built for this platform and that "
                      "its dependencies resolve (ldd " +
                      library_name + ")");
  }
  LibraryRecord& record = GlobalRegistry().libraries[library->native()];
  if (!record.library) record.library = library;
  library.reset();  // a second dlopen of a known library only adds a reference: drop it

  // 6. The entry symbol.
  if (!record.library->has(RG_PLUGIN_ENTRY_SYMBOL)) {
    return refuse(loader_error::kEntryMissing,
                  library_name +
                      " does not export " RG_PLUGIN_ENTRY_SYMBOL
                      "; define it extern \"C\" with RG_PLUGIN_EXPORT (nm -D --defined-only "
                      "lists what the library exports)");
  }

  // 7. The entry, once per process.
  if (!record.entry) {
    const rg_host_services* services = nullptr;
    try {
      if (services_factory_) services = services_factory_(manifest);
    } catch (...) {
      services = nullptr;
    }
    if (services == nullptr) {
      return refuse(loader_error::kNoServices,
                    "the host built no services table for it; this is a regiongate bug: "
                    "report it with this message");
    }
    EntryOutcome outcome;
    outcome.services = services;
    EntryFunction& entry = record.library->get<EntryFunction>(RG_PLUGIN_ENTRY_SYMBOL);
    spdlog::debug("plug-in loader: calling {} of {}", RG_PLUGIN_ENTRY_SYMBOL, library_name);
    try {
      outcome.code = entry(services, RG_ABI_VERSION_MAJOR, RG_ABI_VERSION_MINOR, &outcome.table);
    } catch (const std::exception& e) {
      outcome.threw = true;
      outcome.exception_what = e.what();
    } catch (...) {
      outcome.threw = true;
    }
    record.entry = std::move(outcome);
  }
  const EntryOutcome& entry = *record.entry;
  if (entry.threw) {
    return refuse(loader_error::kEntryFailed,
                  RG_PLUGIN_ENTRY_SYMBOL " threw " +
                      (entry.exception_what ? "a C++ exception: " + *entry.exception_what
                                            : std::string("a C++ exception of unknown type")) +
                      "; catch everything inside the entry and return an rg_code, exceptions "
                      "must not cross the ABI");
  }
  if (entry.code != RG_OK) {
    return refuse(loader_error::kEntryFailed, RG_PLUGIN_ENTRY_SYMBOL " failed with " +
                                                  CodeName(entry.code) + " (" +
                                                  std::to_string(static_cast<int64_t>(entry.code)) +
                                                  "); the plug-in's log lines say why");
  }
  if (entry.table == nullptr) {
    return refuse(loader_error::kEntryFailed, RG_PLUGIN_ENTRY_SYMBOL
                  " returned RG_OK without a plug-in table; the entry "
                  "must store a pointer to its rg_plugin table in *out");
  }
  const rg_plugin& table = *entry.table;

  // 8, first part: enough of the table to read its version.
  if (table.struct_size < kPluginHeaderSize) {
    return refuse(loader_error::kTableInvalid,
                  "its rg_plugin table is " + std::to_string(table.struct_size) +
                      " bytes, too small to hold its ABI version; set struct_size to "
                      "sizeof(rg_plugin) and rebuild against regiongate/abi.h");
  }

  // 9. The version the plug-in speaks.
  const std::string plugin_abi = AbiString(table.abi_major, table.abi_minor);
  if (table.abi_major != RG_ABI_VERSION_MAJOR) {
    return refuse(loader_error::kAbiNegotiationFailed,
                  "it speaks ABI " + plugin_abi + " but this host speaks ABI " + HostAbi() +
                      " and the major versions must be equal; install a build of the plug-in "
                      "for ABI " +
                      std::to_string(RG_ABI_VERSION_MAJOR) + ".x");
  }
  if (table.abi_minor > RG_ABI_VERSION_MINOR) {
    return refuse(loader_error::kAbiNegotiationFailed,
                  "it speaks ABI " + plugin_abi + " but this host speaks ABI " + HostAbi() +
                      " and the plug-in's minor version must not exceed the host's; make the "
                      "entry answer the host_abi_minor it is given, or upgrade regiongate");
  }

  // 8, the rest: the ABI 1.0 layout, its required members and its description.
  if (table.struct_size < kPluginV1Size) {
    return refuse(loader_error::kTableInvalid,
                  "its rg_plugin table is " + std::to_string(table.struct_size) +
                      " bytes but ABI " + plugin_abi + " needs at least " +
                      std::to_string(kPluginV1Size) +
                      "; set struct_size to sizeof(rg_plugin) and rebuild against "
                      "regiongate/abi.h");
  }
  if (const auto missing = NullRequiredMembers(table); !missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    return refuse(loader_error::kTableInvalid,
                  "its rg_plugin table leaves required members NULL: " + names +
                      "; set every member except shutdown");
  }
  Description description;
  if (const auto why = ParseDescription(table.description_json, &description)) {
    return refuse(loader_error::kTableInvalid,
                  "its description_json is not {\"models\":[...],\"endpoints\":[...],"
                  "\"capabilities\":[...]} (" +
                      *why + "); list the models, endpoints and capabilities the code implements");
  }

  // 10. The library and its manifest describe the same plug-in.
  if (const auto differences = Disagreements(table, description, manifest); !differences.empty()) {
    std::string text;
    for (const auto& difference : differences) text += (text.empty() ? "" : "; ") + difference;
    return refuse(loader_error::kDescriptionMismatch,
                  "the library disagrees with " + manifest_name + ": " + text +
                      "; rebuild the plug-in or fix the manifest so both describe the same "
                      "code");
  }

  auto plugin = std::make_shared<LoadedPlugin>();
  plugin->table = entry.table;
  plugin->services = entry.services;
  plugin->abi_major = table.abi_major;
  plugin->abi_minor = table.abi_minor;
  plugin->library = record.library;
  plugin->manifest = std::move(manifest);
  spdlog::debug("plug-in loader: loaded '{}' {} (ABI {}) from {}", plugin->manifest.id,
                plugin->manifest.version, plugin_abi, library_name);
  {
    std::lock_guard lock(mutex_);
    loaded_.push_back(plugin);
  }
  return plugin;
}

}  // namespace rg::core
