// Helpers shared by the vendor handlers: text and token arithmetic, deterministic ids,
// behavior resolution, fault injection into plans, and the shared state.
#include <algorithm>
#include <ctime>

#include "sim_internal.hpp"

namespace rg::tools::sim {

std::string SimRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

// ---- state -------------------------------------------------------------------------------

int64_t SimState::Now() const { return static_cast<int64_t>(std::time(nullptr)); }

int64_t SimState::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SimState::Created() const { return options_.created != 0 ? options_.created : Now(); }

int64_t SimState::Bump(const std::string& key) {
  std::lock_guard lock(mu_);
  return ++counters_[key];
}

void SimState::ResetCounters() {
  std::lock_guard lock(mu_);
  counters_.clear();
}

std::string SimState::TokenFor(const std::string& ak, int64_t generation) const {
  const std::string seed = "qianfan-token|" + ak + "|" + std::to_string(generation);
  // Shape of a real token: 24.<32 hex>.<ttl>.<issue time>.<digits>-<digits>.
  return "24." + HexId(seed, 32) + "." + std::to_string(options_.qianfan_token_ttl_s) + "." +
         std::to_string(1700000000 + generation) + ".282335-" +
         std::to_string(10000000 + Fnv1a(ak) % 90000000);
}

std::pair<std::string, int64_t> SimState::IssueToken(const std::string& ak) {
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  int64_t& generation = generation_[ak];
  auto issued = generation_issued_.find(ak + "|" + std::to_string(generation));
  if (issued != generation_issued_.end() &&
      now - issued->second >= options_.qianfan_token_ttl_s * 1000) {
    ++generation;  // the old one timed out: hand out the next token of the sequence
    issued = generation_issued_.end();
  }
  const std::string key = ak + "|" + std::to_string(generation);
  if (issued == generation_issued_.end()) {
    generation_issued_[key] = now;
  }
  const std::string token = TokenFor(ak, generation);
  tokens_[token] = QianfanToken{ak, generation, generation_issued_[key]};
  return {token, options_.qianfan_token_ttl_s};
}

SimState::TokenCheck SimState::CheckToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return TokenCheck::kInvalid;
  if (it->second.generation < generation_[it->second.ak]) return TokenCheck::kExpired;
  if (NowMs() - it->second.issued_at_ms >= options_.qianfan_token_ttl_s * 1000) {
    return TokenCheck::kExpired;
  }
  return TokenCheck::kValid;
}

void SimState::RevokeToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return;
  int64_t& generation = generation_[it->second.ak];
  generation = std::max(generation, it->second.generation + 1);
}

void SimState::ExpireAllTokens() {
  std::lock_guard lock(mu_);
  for (const auto& [token, info] : tokens_) {
    int64_t& generation = generation_[info.ak];
    generation = std::max(generation, info.generation + 1);
  }
}

// ---- text, tokens, ids ------------------------------------------------------------------

namespace {
bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U; }
}  // namespace

int64_t CountCodePoints(std::string_view text) {
  return static_cast<int64_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuation(c); }));
}

int64_t TokenCount(std::string_view text) { return (CountCodePoints(text) + 3) / 4; }

std::string TruncateCodePoints(std::string_view text, int64_t max_code_points) {
  int64_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!IsContinuation(text[i])) {
      if (seen == max_code_points) return std::string(text.substr(0, i));
      ++seen;
    }
  }
  return std::string(text);
}

std::vector<std::string> SplitCodePoints(std::string_view text, int per_piece) {
  std::vector<std::string> pieces;
  const int64_t limit = std::max(1, per_piece);
  size_t start = 0;
  int64_t in_piece = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsContinuation(text[i])) continue;
    if (in_piece == limit) {
      pieces.emplace_back(text.substr(start, i - start));
      start = i;
      in_piece = 0;
    }
    ++in_piece;
  }
  if (start < text.size()) pieces.emplace_back(text.substr(start));
  return pieces;
}

uint64_t Fnv1a(std::string_view text, uint64_t seed) {
  uint64_t hash = 14695981039346656037ULL ^ (seed * 1099511628211ULL);
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

namespace {
std::string IdFromAlphabet(std::string_view seed, size_t length, std::string_view alphabet) {
  std::string out;
  out.reserve(length);
  uint64_t round = 0;
  uint64_t hash = 0;
  int left = 0;
  while (out.size() < length) {
    if (left == 0) {
      hash = Fnv1a(seed, ++round);
      left = 8;  // eight draws per 64-bit hash keep the output well mixed
    }
    out += alphabet[hash % alphabet.size()];
    hash /= alphabet.size();
    hash ^= hash << 13;
    --left;
  }
  return out;
}
}  // namespace

std::string HexId(std::string_view seed, size_t length) {
  return IdFromAlphabet(seed, length, "0123456789abcdef");
}

std::string AlnumId(std::string_view seed, size_t length, bool lower_only) {
  return IdFromAlphabet(seed, length,
                        lower_only
                            ? "abcdefghijklmnopqrstuvwxyz0123456789"
                            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

std::string UuidId(std::string_view seed) {
  const std::string hex = HexId(seed, 32);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string Dump(const OJson& value) {
  return value.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

// ---- request reading ---------------------------------------------------------------------

std::optional<Json> ParseObject(const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

const Json* Find(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

bool GetBool(const Json& object, const char* key, bool fallback) {
  const Json* value = Find(object, key);
  return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

std::optional<int64_t> GetInt(const Json& object, const char* key) {
  const Json* value = Find(object, key);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  return value->get<int64_t>();
}

std::string GetString(const Json& object, const char* key) {
  const Json* value = Find(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::string ContentText(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const Json& part : content) {
      if (GetString(part, "type") == "text") out += GetString(part, "text");
    }
  }
  return out;
}

std::optional<ChatInput> ReadMessages(const Json* messages) {
  if (messages == nullptr || !messages->is_array()) return std::nullopt;
  ChatInput input;
  for (const Json& message : *messages) {
    const Json* content = Find(message, "content");
    const std::string text = content != nullptr ? ContentText(*content) : std::string();
    input.input_code_points += CountCodePoints(text);
    if (GetString(message, "role") == "user") input.last_user = text;
  }
  input.marker = FindMarker(input.last_user);
  input.prompt = input.marker.stripped;
  return input;
}

// Code points in reverse order (a UTF-8 sequence stays intact).
std::string ReverseCodePoints(std::string_view text) {
  std::vector<std::string_view> points;
  for (size_t i = 0; i < text.size();) {
    size_t n = 1;
    while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
    points.push_back(text.substr(i, n));
    i += n;
  }
  std::string out;
  out.reserve(text.size());
  for (auto it = points.rbegin(); it != points.rend(); ++it) out.append(*it);
  return out;
}

Answer MakeAnswer(const ChatInput& input, std::optional<int64_t> max_tokens, int chunk_chars) {
  Answer answer;
  answer.text = "Echo: " + (input.marker.found && input.marker.spec == "reverse"
                                ? ReverseCodePoints(input.prompt)
                                : input.prompt);
  if (max_tokens && *max_tokens >= 0 && TokenCount(answer.text) > *max_tokens) {
    answer.text = TruncateCodePoints(answer.text, *max_tokens * 4);
    answer.cut_by_length = true;
  }
  answer.pieces = SplitCodePoints(answer.text, chunk_chars);
  answer.prompt_tokens = (input.input_code_points + 3) / 4;
  answer.completion_tokens = TokenCount(answer.text);
  return answer;
}

std::string JoinPieces(const std::vector<std::string>& pieces, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < pieces.size(); ++i) out += pieces[i];
  return out;
}

size_t PartialPieceCount(size_t pieces) {
  if (pieces == 0) return 0;
  return std::max<size_t>(1, pieces / 2);
}

// ---- behaviors ---------------------------------------------------------------------------

Result<Behavior> ResolveBehavior(const SimRequest& request, const MarkerSearch& marker,
                                 const std::string& counter_key, SimState& state,
                                 bool keep_expire_token) {
  const std::string header = request.Header("x-sim-behavior");
  Result<Behavior> parsed =
      marker.found      ? ParseBehavior(marker.spec, "marker [[sim:" + marker.spec + "]]")
      : !header.empty() ? ParseBehavior(header, "header X-Sim-Behavior")
                        : ParseBehavior(state.options().default_behavior, "--behavior");
  if (!parsed) return parsed;
  Behavior behavior = parsed.value();
  if (behavior.kind == BehaviorKind::kFlaky) {
    const int64_t seen = state.Bump("flaky|" + counter_key);
    behavior.kind = seen <= behavior.number ? BehaviorKind::kUnavailable : BehaviorKind::kNormal;
  } else if (behavior.kind == BehaviorKind::kExpireToken && !keep_expire_token) {
    behavior.kind = BehaviorKind::kNormal;
  }
  return behavior;
}

// ---- plans -------------------------------------------------------------------------------

ResponsePlan BodyPlan(int status, Headers headers, std::string body) {
  ResponsePlan plan;
  plan.status = status;
  plan.headers = std::move(headers);
  plan.pieces.push_back(std::move(body));
  return plan;
}

void ApplyFirstByteDelay(const Behavior& behavior, ResponsePlan& plan) {
  if (behavior.kind == BehaviorKind::kSlowFirstByte) {
    plan.first_byte_delay = std::chrono::milliseconds(behavior.number);
  }
}

void ApplyBodyFaults(const Behavior& behavior, ResponsePlan& plan) {
  ApplyFirstByteDelay(behavior, plan);
  if (plan.pieces.size() != 1) return;
  const std::string body = plan.pieces.front();
  const size_t half = body.size() / 2;
  switch (behavior.kind) {
    case BehaviorKind::kStall:
      plan.pieces = {body.substr(0, half), body.substr(half)};
      plan.stall_before = 1;
      plan.stall = std::chrono::milliseconds(behavior.number);
      break;
    case BehaviorKind::kTruncate:
      // A sized body cut short is always a transport-level cut.
      plan.pieces = {body.substr(0, half)};
      plan.declared_length = body.size();
      plan.end = ResponsePlan::End::kAbort;
      break;
    case BehaviorKind::kMalformedChunk:
      plan.pieces = {body.substr(0, half)};
      break;
    default:
      break;
  }
}

namespace {

std::string Frame(const StreamEvent& event, Framing framing, int id) {
  if (framing == Framing::kDataSpace) return "data: " + event.payload + "\n\n";
  return "id:" + std::to_string(id) + "\nevent:" + event.event + "\n:HTTP_STATUS/" +
         std::to_string(event.http_status) + "\ndata:" + event.payload + "\n\n";
}

}  // namespace

ResponsePlan StreamPlan(Headers headers, std::vector<StreamEvent> events, Framing framing,
                        const Behavior& behavior) {
  ResponsePlan plan;
  plan.headers = std::move(headers);
  plan.chunked = true;
  ApplyFirstByteDelay(behavior, plan);

  std::vector<size_t> content;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].content) content.push_back(i);
  }
  // Faults hit about halfway through the text, so some text has already arrived.
  const size_t keep = PartialPieceCount(content.size());
  const size_t cut_index = content.empty()         ? 0
                           : keep < content.size() ? content[keep]
                                                   : content.back() + 1;
  switch (behavior.kind) {
    case BehaviorKind::kStall:
      plan.stall_before = cut_index;
      plan.stall = std::chrono::milliseconds(behavior.number);
      break;
    case BehaviorKind::kTruncate:
      events.resize(std::min(cut_index, events.size()));
      plan.end = behavior.abort ? ResponsePlan::End::kAbort : ResponsePlan::End::kCleanClose;
      break;
    case BehaviorKind::kMalformedChunk:
      if (!content.empty()) {
        const size_t first = content.front();
        const size_t source = first + 1 < events.size() ? first + 1 : first;
        StreamEvent broken = events[source];
        broken.payload = broken.payload.substr(0, broken.payload.size() / 2);
        broken.content = false;
        events.insert(events.begin() + static_cast<std::ptrdiff_t>(first + 1), broken);
      }
      break;
    default:
      break;
  }
  int id = 0;
  for (const StreamEvent& event : events) plan.pieces.push_back(Frame(event, framing, ++id));
  return plan;
}

}  // namespace rg::tools::sim
