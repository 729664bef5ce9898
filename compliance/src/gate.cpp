#include "regiongate/compliance/gate.hpp"

#include <algorithm>

#include "regiongate/compliance/labels.hpp"
#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

struct Outcome {
  bool pass = false;
  std::string message;
};

std::string Combo(std::string_view plugin, std::string_view model, std::string_view endpoint) {
  std::string out(plugin);
  if (!model.empty()) out += "/" + std::string(model);
  return out + " via " + std::string(endpoint);
}

std::string JoinOr(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string EgressKey(std::string_view region, std::string_view plugin, std::string_view endpoint) {
  return std::string(region) + '\n' + std::string(plugin) + '\n' + std::string(endpoint);
}

Outcome CheckDeny(const Rule& rule, const std::string& combo) {
  return {false, combo + " is on the deny list: " + rule.summary};
}

Outcome CheckAllowOnly(const Rule& rule, bool matched, const std::string& combo) {
  if (matched) return {true, combo + " is on the allow list"};
  return {false, combo + " is not on the allow list: " + rule.summary};
}

Outcome CheckFiling(const Rule& rule, const FilingRegistry& registry, const PluginManifest& plugin,
                    const std::string& model) {
  const std::string kinds = JoinOr(rule.filing_kinds);
  std::string first_problem;
  for (const FilingClaim& claim : plugin.filings) {
    if (!Contains(rule.filing_kinds, claim.kind) || !Contains(claim.models, model)) continue;
    const std::string claimed = "plug-in '" + plugin.id + "' claims " + claim.kind + " filing " +
                                claim.number + " for model '" + model + "'";
    const RegistryEntry* entry = registry.Find(claim.kind, claim.number);
    std::string problem;
    if (entry == nullptr) {
      problem = claimed +
                ", but the registry has no such filing; verify it and add it to "
                "config/registry";
    } else if (entry->status != "verified") {
      problem = claimed + ", but the registry marks it " + entry->status +
                (entry->status == "pending" ? "; verify it and set status: verified" : "");
    } else if (!entry->Covers(model)) {
      problem = claimed + ", but the registry entry (" + entry->file + ":" +
                std::to_string(entry->line) + ") does not cover that model";
    } else {
      return {true, "model '" + model + "' has " + claim.kind + " filing " + claim.number +
                        " (holder " + entry->holder + "), verified in the registry on " +
                        (entry->verified_on ? FormatDate(*entry->verified_on) : "?")};
    }
    if (first_problem.empty()) first_problem = problem;
  }
  if (!first_problem.empty()) return {false, first_problem};
  return {false, "plug-in '" + plugin.id + "' claims no " + kinds + " filing covering model '" +
                     model + "'; " + rule.summary};
}

Outcome CheckResidency(const Rule& rule, const EndpointDecl& endpoint) {
  std::vector<std::string> problems;
  std::string transfer_note;
  if (!rule.data_regions.empty() && !Contains(rule.data_regions, endpoint.data_region)) {
    const Transfer* transfer = nullptr;
    for (const Transfer& t : rule.transfers) {
      if (t.to == endpoint.data_region) transfer = &t;
    }
    if (transfer != nullptr && transfer->in_place) {
      transfer_note = " (transfer to " + transfer->to + " under: " + transfer->basis + ")";
    } else if (transfer != nullptr) {
      problems.push_back("endpoint '" + endpoint.id + "' stores data in " + endpoint.data_region +
                         ", which needs a transfer basis (" + transfer->basis +
                         ") that is not in place; set in_place: true once it is");
    } else {
      problems.push_back("endpoint '" + endpoint.id + "' stores data in " + endpoint.data_region +
                         ", outside the allowed " + JoinOr(rule.data_regions));
    }
  }
  if (!rule.inference_scopes.empty() &&
      !Contains(rule.inference_scopes, endpoint.inference_scope)) {
    problems.push_back("endpoint '" + endpoint.id + "' runs inference in " +
                       endpoint.inference_scope + ", outside the allowed " +
                       JoinOr(rule.inference_scopes));
  }
  if (problems.empty()) {
    return {true, "endpoint '" + endpoint.id + "' stores data in " + endpoint.data_region +
                      " and runs inference in " + endpoint.inference_scope + transfer_note};
  }
  std::string message;
  for (const std::string& p : problems) message += (message.empty() ? "" : "; ") + p;
  return {false, message};
}

Outcome CheckPin(const Rule& rule, const PluginManifest& plugin) {
  const std::string shown = plugin.sha256.substr(0, 12);
  if (Contains(rule.sha256, plugin.sha256)) {
    return {true, "library of plug-in '" + plugin.id + "' (sha256 " + shown + "...) is approved"};
  }
  return {false, "library of plug-in '" + plugin.id + "' (sha256 " + shown +
                     "...) is not one of the approved builds; install an approved build or add "
                     "its hash to rule '" +
                     rule.id + "'"};
}

Outcome CheckCapabilities(const Rule& rule, const RegionManifest& region, const std::string& locale,
                          const PluginManifest& plugin, bool auth) {
  std::vector<std::string> problems;
  for (const std::string& capability : rule.plugin_capabilities) {
    if (!plugin.HasCapability(capability)) {
      problems.push_back("plug-in '" + plugin.id + "' lacks capability '" + capability + "'");
    }
  }
  if (!auth) {
    for (const std::string& feature : rule.runtime) {
      if (feature == "content_policy") {
        if (!region.content_policy.present) {
          problems.push_back("region '" + region.region + "' has no content_policy section");
        } else if (region.content_policy.refusal_message.count(locale) == 0) {
          problems.push_back("content_policy has no refusal_message for locale '" + locale + "'");
        }
      } else if (feature == "labels") {
        if (!region.labels.present) {
          problems.push_back("region '" + region.region + "' has no labels section");
        } else if (FindExplicitLabel(region.labels, locale) == nullptr) {
          problems.push_back("labels has no explicit label for locale '" + locale + "'");
        }
      } else if (feature == "implicit_labels") {
        if (region.labels.implicit_scheme.empty() || region.labels.implicit_scheme == "none") {
          problems.push_back("region '" + region.region +
                             "' sets no implicit label scheme (labels.implicit.scheme)");
        }
      } else if (feature == "pii" && !region.pii.present) {
        problems.push_back("region '" + region.region + "' has no pii section");
      } else if (feature == "audit" && !region.audit.present) {
        problems.push_back("region '" + region.region + "' has no audit section");
      }
    }
  }
  if (problems.empty()) {
    std::vector<std::string> what = rule.plugin_capabilities;
    if (!auth) what.insert(what.end(), rule.runtime.begin(), rule.runtime.end());
    return {true, "required capabilities are configured: " + detail::JoinList(what)};
  }
  std::string message;
  for (const std::string& p : problems) message += (message.empty() ? "" : "; ") + p;
  return {false, message + "; configure it or the region denies every plug-in"};
}

}  // namespace

nlohmann::json Reason::ToJson() const {
  return {{"rule", rule}, {"effect", effect}, {"message", message}, {"citation", citation}};
}

nlohmann::json Decision::ToJson() const {
  nlohmann::json reasons_json = nlohmann::json::array();
  for (const Reason& r : reasons) reasons_json.push_back(r.ToJson());
  return {{"plugin", plugin},
          {"model", model},
          {"endpoint", endpoint},
          {"allowed", allowed},
          {"reasons", reasons_json}};
}

nlohmann::json Explanation::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const Decision& d : decisions) list.push_back(d.ToJson());
  return {{"locale", locale},
          {"region", region},
          {"as_of", as_of},
          {"manifest_revision", manifest_revision},
          {"decisions", list}};
}

std::string Explanation::ToText() const {
  std::string out = "locale " + locale + " -> region " + region;
  if (!region_name.empty()) out += " (" + region_name + ")";
  out += ", as of " + as_of + "\n";
  out += "manifest " + manifest_file + ", revision " + manifest_revision.substr(0, 12) + "\n\n";
  size_t w_plugin = 6;
  size_t w_model = 5;
  size_t w_endpoint = 8;
  for (const Decision& d : decisions) {
    w_plugin = std::max(w_plugin, d.plugin.size());
    w_model = std::max(w_model, d.model.size());
    w_endpoint = std::max(w_endpoint, d.endpoint.size());
  }
  auto pad = [](const std::string& s, size_t width) {
    return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
  };
  out += pad("PLUGIN", w_plugin) + "  " + pad("MODEL", w_model) + "  " +
         pad("ENDPOINT", w_endpoint) + "  DECISION\n";
  size_t allowed = 0;
  for (const Decision& d : decisions) {
    if (d.allowed) ++allowed;
    out += pad(d.plugin, w_plugin) + "  " + pad(d.model, w_model) + "  " +
           pad(d.endpoint, w_endpoint) + "  " + (d.allowed ? "allow" : "DENY") + "\n";
    for (const Reason& r : d.reasons) {
      out += "    " + pad(r.effect, 9) + r.rule + ": " + r.message;
      if (!r.citation.empty()) out += " [" + r.citation + "]";
      out += "\n";
    }
  }
  if (decisions.empty()) out += "(no plug-in offers a model for this selection)\n";
  out += "\n" + std::to_string(allowed) + " of " + std::to_string(decisions.size()) +
         (decisions.size() == 1 ? " combination" : " combinations") + " allowed\n";
  return out;
}

std::string Explanation::ToSummaryText() const {
  std::string out = "locale " + locale + " -> region " + region;
  if (!region_name.empty()) out += " (" + region_name + ")";
  out += ", as of " + as_of + ", revision " + manifest_revision.substr(0, 12) + "\n";
  struct Group {
    std::string plugin;
    bool allowed = false;
    std::vector<std::string> deny_rules;
    std::vector<std::string> models;
    std::vector<std::string> endpoints;
    const Decision* example = nullptr;
  };
  std::vector<Group> groups;
  auto add_unique = [](std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  };
  for (const Decision& d : decisions) {
    std::vector<std::string> deny_rules;
    for (const Reason& r : d.reasons) {
      if (r.effect == "deny") add_unique(deny_rules, r.rule);
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.plugin == d.plugin && g.allowed == d.allowed && g.deny_rules == deny_rules;
    });
    if (it == groups.end()) {
      groups.push_back(Group{d.plugin, d.allowed, deny_rules, {}, {}, &d});
      it = std::prev(groups.end());
    }
    add_unique(it->models, d.model);
    add_unique(it->endpoints, d.endpoint);
  }
  auto join = [](const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
  };
  size_t allowed = 0;
  for (const Decision& d : decisions) allowed += d.allowed ? 1 : 0;
  for (const Group& g : groups) {
    out += std::string(g.allowed ? "  allow  " : "  deny   ") + g.plugin + ": " + join(g.models) +
           " via " + join(g.endpoints) + "\n";
    if (g.allowed) continue;
    for (const std::string& rule : g.deny_rules) {
      for (const Reason& r : g.example->reasons) {
        if (r.rule == rule && r.effect == "deny") {
          out += "           " + rule + ": " + r.message + "\n";
          break;
        }
      }
    }
  }
  if (decisions.empty()) out += "  (no plug-in offers a model for this selection)\n";
  out += "  " + std::to_string(allowed) + " of " + std::to_string(decisions.size()) +
         " combinations allowed; 'regiongate explain --locale " + locale +
         "' shows every rule with its citation\n";
  return out;
}

Gate::Gate(std::shared_ptr<const PolicySet> policy, std::vector<PluginManifest> plugins, Date as_of)
    : policy_(std::move(policy)), plugins_(std::move(plugins)), as_of_(as_of) {
  for (const RegionManifest& region : policy_->regions) {
    for (const std::string& locale : region.locales) {
      std::vector<Decision>& list = decisions_[locale];
      for (const PluginManifest& plugin : plugins_) {
        for (const ModelDecl& model : plugin.models) {
          for (const EndpointDecl& endpoint : plugin.endpoints) {
            if (endpoint.kind != "inference") continue;
            if (!model.endpoints.empty() && !Contains(model.endpoints, endpoint.id)) continue;
            list.push_back(Evaluate(region, locale, plugin, model.id, endpoint));
          }
        }
      }
    }
    for (const PluginManifest& plugin : plugins_) {
      for (const EndpointDecl& endpoint : plugin.endpoints) {
        egress_[EgressKey(region.region, plugin.id, endpoint.id)] =
            EvaluateEgress(region, plugin, endpoint);
      }
    }
  }
}

Decision Gate::Evaluate(const RegionManifest& region, const std::string& locale,
                        const PluginManifest& plugin, const std::string& model,
                        const EndpointDecl& endpoint) const {
  const bool auth = endpoint.kind != "inference";
  Decision d;
  d.locale = locale;
  d.region = region.region;
  d.plugin = plugin.id;
  d.model = model;
  d.endpoint = endpoint.id;
  const std::string combo = Combo(plugin.id, model, endpoint.id);
  for (const Rule& rule : region.rules) {
    bool concerns = false;
    bool matched = false;
    switch (rule.kind) {
      case RuleKind::kDeny:
        matched = std::any_of(rule.match.begin(), rule.match.end(), [&](const Selector& s) {
          return auth ? s.plugin == plugin.id && s.models.empty() &&
                            (s.endpoints.empty() || Contains(s.endpoints, endpoint.id))
                      : s.Matches(plugin.id, model, endpoint.id);
        });
        concerns = matched;
        break;
      case RuleKind::kAllowOnly:
        // An auth endpoint only issues tokens: the plug-in being listed is what counts.
        matched = std::any_of(rule.match.begin(), rule.match.end(), [&](const Selector& s) {
          return auth ? s.plugin == plugin.id : s.Matches(plugin.id, model, endpoint.id);
        });
        concerns = true;
        break;
      case RuleKind::kRequireFiling:
        concerns = !auth && rule.AppliesTo(plugin.id, model, endpoint.id);
        break;
      case RuleKind::kPinBinary:
        concerns = rule.plugin == plugin.id;
        break;
      case RuleKind::kResidency:
      case RuleKind::kRequireCapabilities:
        concerns = rule.AppliesTo(plugin.id, model, endpoint.id);
        break;
    }
    if (!concerns) continue;
    if (!rule.InForce(as_of_)) {
      const bool future = as_of_ < rule.effective;
      d.reasons.push_back(
          {rule.id, "inactive",
           future ? "not in force until " + FormatDate(rule.effective) + ": " + rule.summary
                  : "no longer in force since " + FormatDate(*rule.until) + ": " + rule.summary,
           rule.citation});
      continue;
    }
    if (rule.enforcement == Enforcement::kDisabled) {
      d.reasons.push_back({rule.id, "inactive", "disabled (enforcement: disabled): " + rule.summary,
                           rule.citation});
      continue;
    }
    Outcome outcome;
    switch (rule.kind) {
      case RuleKind::kDeny:
        outcome = CheckDeny(rule, combo);
        break;
      case RuleKind::kAllowOnly:
        outcome = CheckAllowOnly(rule, matched, combo);
        break;
      case RuleKind::kRequireFiling:
        outcome = CheckFiling(rule, policy_->registry, plugin, model);
        break;
      case RuleKind::kResidency:
        outcome = CheckResidency(rule, endpoint);
        break;
      case RuleKind::kPinBinary:
        outcome = CheckPin(rule, plugin);
        break;
      case RuleKind::kRequireCapabilities:
        outcome = CheckCapabilities(rule, region, locale, plugin, auth);
        break;
    }
    std::string effect = "allow";
    if (!outcome.pass) effect = rule.enforcement == Enforcement::kWarn ? "warn" : "deny";
    d.reasons.push_back({rule.id, effect, outcome.message, rule.citation});
  }
  d.allowed = std::none_of(d.reasons.begin(), d.reasons.end(),
                           [](const Reason& r) { return r.effect == "deny"; });
  const bool decided = std::any_of(d.reasons.begin(), d.reasons.end(), [](const Reason& r) {
    return r.effect == "allow" || r.effect == "deny";
  });
  if (d.allowed && !decided) {
    d.reasons.push_back({"gate", "allow",
                         "no rule in force in region '" + region.region + "' restricts " + combo,
                         ""});
  }
  return d;
}

Gate::EgressVerdict Gate::EvaluateEgress(const RegionManifest& region, const PluginManifest& plugin,
                                         const EndpointDecl& endpoint) const {
  EgressVerdict verdict;
  const Reason* first_deny = nullptr;
  bool plugin_allowed = false;
  for (const std::string& locale : region.locales) {
    auto it = decisions_.find(locale);
    if (it == decisions_.end()) continue;
    for (const Decision& d : it->second) {
      if (d.plugin != plugin.id) continue;
      if (d.allowed) plugin_allowed = true;
      if (d.endpoint != endpoint.id) continue;
      if (d.allowed) return {true, "", ""};
      if (first_deny == nullptr) {
        for (const Reason& r : d.reasons) {
          if (r.effect == "deny") {
            first_deny = &r;
            break;
          }
        }
      }
    }
  }
  if (endpoint.kind == "inference") {
    if (first_deny != nullptr) return {false, first_deny->rule, first_deny->message};
    return {false, "gate",
            "no model of plug-in '" + plugin.id + "' is allowed through endpoint '" + endpoint.id +
                "' in region '" + region.region + "'"};
  }
  // Token endpoints: their own residency and lists, and only for a plug-in allowed here.
  const std::string first_locale = region.locales.empty() ? "" : region.locales.front();
  Decision d = Evaluate(region, first_locale, plugin, "", endpoint);
  for (const Reason& r : d.reasons) {
    if (r.effect == "deny") return {false, r.rule, r.message};
  }
  if (!plugin_allowed) {
    return {false, "gate",
            "plug-in '" + plugin.id + "' has no allowed model in region '" + region.region +
                "', so its auth endpoint '" + endpoint.id + "' is not needed"};
  }
  return {true, "", ""};
}

Result<std::string> Gate::ResolveRegion(std::string_view locale) const {
  if (const RegionManifest* region = policy_->ResolveLocale(locale)) return region->region;
  std::string message =
      "no region manifest covers locale '" + std::string(locale) +
      "'; add it to one region's 'locales' (known: " + detail::JoinList(policy_->AllLocales()) +
      ")";
  std::string suggestion = detail::DidYouMean(CanonicalLocale(locale), policy_->AllLocales());
  if (!suggestion.empty()) message += " (" + suggestion + ")";
  return Error{"RG-G001", std::move(message)};
}

Result<void> Gate::CheckFilter(const DecisionFilter& filter) const {
  auto unknown = [](const std::string& what, const std::string& value,
                    const std::vector<std::string>& known) {
    std::string message =
        "unknown " + what + " '" + value + "' (known: " + detail::JoinList(known) + ")";
    std::string suggestion = detail::DidYouMean(value, known);
    if (!suggestion.empty()) message += " (" + suggestion + ")";
    return Error{"RG-G002", std::move(message)};
  };
  std::vector<const PluginManifest*> scope;
  if (!filter.plugin.empty()) {
    std::vector<std::string> ids;
    for (const PluginManifest& p : plugins_) {
      ids.push_back(p.id);
      if (p.id == filter.plugin) scope.push_back(&p);
    }
    if (scope.empty()) return unknown("plug-in", filter.plugin, ids);
  } else {
    for (const PluginManifest& p : plugins_) scope.push_back(&p);
  }
  if (!filter.model.empty()) {
    std::vector<std::string> ids;
    bool found = false;
    for (const PluginManifest* p : scope) {
      for (const ModelDecl& m : p->models) {
        if (!Contains(ids, m.id)) ids.push_back(m.id);
        if (m.id == filter.model) found = true;
      }
    }
    if (!found) return unknown("model", filter.model, ids);
  }
  if (!filter.endpoint.empty()) {
    std::vector<std::string> ids;
    bool found = false;
    for (const PluginManifest* p : scope) {
      for (const EndpointDecl& e : p->endpoints) {
        if (e.kind != "inference") continue;
        if (!Contains(ids, e.id)) ids.push_back(e.id);
        if (e.id == filter.endpoint) found = true;
      }
    }
    if (!found) return unknown("endpoint", filter.endpoint, ids);
  }
  return {};
}

Result<Explanation> Gate::Explain(std::string_view locale, const DecisionFilter& filter) const {
  const RegionManifest* region = policy_->ResolveLocale(locale);
  if (region == nullptr) return ResolveRegion(locale).error();
  if (Result<void> ok = CheckFilter(filter); !ok) return ok.error();
  Explanation e;
  e.locale = CanonicalLocale(locale);
  e.region = region->region;
  e.region_name = region->name;
  e.manifest_file = region->file;
  e.as_of = FormatDate(as_of_);
  e.manifest_revision = region->revision;
  auto it = decisions_.find(e.locale);
  if (it != decisions_.end()) {
    for (const Decision& d : it->second) {
      if (!filter.plugin.empty() && d.plugin != filter.plugin) continue;
      if (!filter.model.empty() && d.model != filter.model) continue;
      if (!filter.endpoint.empty() && d.endpoint != filter.endpoint) continue;
      e.decisions.push_back(d);
    }
  }
  return e;
}

const Decision* Gate::Find(std::string_view locale, std::string_view plugin, std::string_view model,
                           std::string_view endpoint) const {
  auto it = decisions_.find(CanonicalLocale(locale));
  if (it == decisions_.end()) return nullptr;
  for (const Decision& d : it->second) {
    if (d.plugin == plugin && d.model == model && d.endpoint == endpoint) return &d;
  }
  return nullptr;
}

std::vector<const Decision*> Gate::Allowed(std::string_view locale) const {
  std::vector<const Decision*> out;
  const std::string canonical = CanonicalLocale(locale);
  const RegionManifest* region = policy_->ResolveLocale(canonical);
  auto it = decisions_.find(canonical);
  if (region == nullptr || it == decisions_.end()) return out;
  for (const Decision& d : it->second) {
    if (d.allowed) out.push_back(&d);
  }
  auto rank = [region](const Decision* d) {
    for (size_t i = 0; i < region->priority.size(); ++i) {
      if (region->priority[i].Matches(d->plugin, d->model, d->endpoint)) return i;
    }
    return region->priority.size();
  };
  std::stable_sort(out.begin(), out.end(),
                   [&rank](const Decision* a, const Decision* b) { return rank(a) < rank(b); });
  return out;
}

Result<Decision> Gate::Choose(std::string_view locale, const DecisionFilter& filter) const {
  Result<Explanation> explained = Explain(locale, filter);
  if (!explained) return explained.error();
  for (const Decision* d : Allowed(locale)) {
    if (!filter.plugin.empty() && d->plugin != filter.plugin) continue;
    if (!filter.model.empty() && d->model != filter.model) continue;
    if (!filter.endpoint.empty() && d->endpoint != filter.endpoint) continue;
    return *d;
  }
  std::string selection;
  if (!filter.plugin.empty()) selection += " plug-in '" + filter.plugin + "'";
  if (!filter.model.empty()) selection += " model '" + filter.model + "'";
  if (!filter.endpoint.empty()) selection += " endpoint '" + filter.endpoint + "'";
  std::string message = "nothing is allowed for locale '" + explained->locale + "' (region '" +
                        explained->region + "')" + (selection.empty() ? "" : " with" + selection);
  if (explained->decisions.empty()) {
    message += ": no loaded plug-in offers a model for it";
  } else {
    message += "; see 'regiongate explain --locale " + explained->locale + "':";
    for (const Decision& d : explained->decisions) {
      for (const Reason& r : d.reasons) {
        if (r.effect != "deny") continue;
        message += "\n  " + Combo(d.plugin, d.model, d.endpoint) + ": " + r.rule + ": " + r.message;
      }
    }
  }
  return Error{"RG-G003", std::move(message)};
}

Result<void> Gate::EgressCheck(std::string_view region_id, std::string_view plugin,
                               std::string_view endpoint) const {
  const RegionManifest* region = policy_->FindRegion(region_id);
  if (region == nullptr) {
    return Error{"RG-G006", "egress denied: unknown region '" + std::string(region_id) +
                                "'; requests must carry a region from config/regions"};
  }
  auto it = egress_.find(EgressKey(region_id, plugin, endpoint));
  if (it == egress_.end()) {
    return Error{"RG-G005", "egress denied: plug-in '" + std::string(plugin) +
                                "' declares no endpoint '" + std::string(endpoint) +
                                "'; a plug-in may only call endpoints in its manifest"};
  }
  if (it->second.allowed) return {};
  return Error{"RG-G004", "egress to " + std::string(plugin) + " endpoint '" +
                              std::string(endpoint) + "' denied for region '" +
                              std::string(region_id) + "' by rule '" + it->second.rule +
                              "': " + it->second.message};
}

}  // namespace rg::compliance
