#include "regiongate/compliance/pii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "regiongate/compliance/region_manifest.hpp"

namespace rg::compliance {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int DigitValue(char c) { return c - '0'; }

// Lower number wins when two findings overlap: checksummed kinds before the loose ones.
int Priority(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return 0;
    case PiiType::kCnResidentId:
      return 1;
    case PiiType::kBankCard:
      return 2;
    case PiiType::kJpMyNumber:
      return 3;
    case PiiType::kUsSsn:
      return 4;
    case PiiType::kIpAddress:
      return 5;
    case PiiType::kPhone:
      return 6;
  }
  return 7;
}

struct Candidate {
  PiiType type;
  size_t begin;
  size_t end;
};

// ---- e-mail ------------------------------------------------------------------------------

bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

bool ValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  std::string_view last;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    ++labels;
    last = label;
    start = dot + 1;
  }
  return labels >= 2 && last.size() >= 2 && std::all_of(last.begin(), last.end(), IsAlpha);
}

void FindEmails(std::string_view text, std::vector<Candidate>* out) {
  size_t floor = 0;  // the previous match's end: a local part never reaches back into it
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    size_t begin = at;
    while (begin > floor && IsLocalChar(text[begin - 1])) --begin;
    while (begin < at && (text[begin] == '.' || text[begin] == '-')) ++begin;
    if (begin == at || text[at - 1] == '.' || at - begin > 64) continue;
    size_t end = at + 1;
    while (end < text.size() && IsDomainChar(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    if (end < text.size() && (text[end] == '@' || text[end] == '_')) continue;
    if (!ValidDomain(text.substr(at + 1, end - at - 1))) continue;
    out->push_back({PiiType::kEmail, begin, end});
    floor = end;
  }
}

// ---- numbers made of digit groups ----------------------------------------------------------

struct Group {
  size_t begin;
  size_t end;  // includes a resident ID's final X
};

// What may separate two digit groups of one number.
bool IsLink(std::string_view between) {
  return between == " " || between == "-" || between == "." || between == ")" || between == ") " ||
         between == ")-";
}

// A run of linked digit groups, seen from one start group to one end group.
struct Span {
  std::string_view text;
  const std::vector<Group>* groups;
  size_t first;  // group indices, inclusive
  size_t last;
  char prefix;  // '+', '(' or 0, the character right before the first group

  size_t Count() const { return last - first + 1; }
  std::string_view GroupText(size_t k) const {
    const Group& g = (*groups)[first + k];
    return text.substr(g.begin, g.end - g.begin);
  }
  size_t GroupSize(size_t k) const { return GroupText(k).size(); }
  std::string_view Sep(size_t k) const {  // between group k and k + 1
    const Group& a = (*groups)[first + k];
    const Group& b = (*groups)[first + k + 1];
    return text.substr(a.end, b.begin - a.end);
  }
  std::string Digits() const {
    std::string d;
    for (size_t k = 0; k < Count(); ++k) d += GroupText(k);
    return d;
  }
  bool SameSep(std::initializer_list<std::string_view> allowed) const {
    if (Count() == 1) return true;
    const std::string_view s = Sep(0);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) return false;
    for (size_t k = 1; k + 1 < Count(); ++k) {
      if (Sep(k) != s) return false;
    }
    return true;
  }
  bool Sizes(std::initializer_list<size_t> sizes) const {
    if (sizes.size() != Count()) return false;
    size_t k = 0;
    for (size_t size : sizes) {
      if (GroupSize(k++) != size) return false;
    }
    return true;
  }
  bool AnyParen() const {
    for (size_t k = 0; k + 1 < Count(); ++k) {
      if (Sep(k).find(')') != std::string_view::npos) return true;
    }
    return false;
  }
  bool AllDigits() const {
    for (size_t k = 0; k < Count(); ++k) {
      const std::string_view g = GroupText(k);
      if (!std::all_of(g.begin(), g.end(), IsDigit)) return false;
    }
    return true;
  }
};

bool ValidBirthDate(std::string_view yyyymmdd) {
  const int year = std::stoi(std::string(yyyymmdd.substr(0, 4)));
  const unsigned month = static_cast<unsigned>(std::stoi(std::string(yyyymmdd.substr(4, 2))));
  const unsigned day = static_cast<unsigned>(std::stoi(std::string(yyyymmdd.substr(6, 2))));
  const Date date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  return year >= 1900 && date.ok() && date <= Today();
}

bool IsCnResidentId(const Span& s) {
  if (s.prefix != 0 || s.Count() != 1) return false;
  const std::string_view id = s.GroupText(0);
  if (id.size() != 18) return false;
  static constexpr std::string_view kProvinces[] = {
      "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
      "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
      "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"};
  if (std::find(std::begin(kProvinces), std::end(kProvinces), id.substr(0, 2)) ==
      std::end(kProvinces)) {
    return false;
  }
  if (!ValidBirthDate(id.substr(6, 8))) return false;
  // GB 11643-1999 check character: weights 2^(17-i) mod 11, result mapped through "10X98765432".
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += DigitValue(id[i]) * kWeights[i];
  static constexpr char kCheck[] = "10X98765432";
  const char check = id[17] == 'x' ? 'X' : id[17];
  return kCheck[sum % 11] == check;
}

bool Luhn(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = DigitValue(digits[i]);
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IsBankCard(const Span& s) {
  if (s.prefix != 0 || !s.AllDigits() || s.AnyParen()) return false;
  const std::string digits = s.Digits();
  if (digits.size() < 13 || digits.size() > 19) return false;
  // Issuer networks: 2 and 5 Mastercard, 3 Amex/JCB/Diners, 4 Visa, 6 Discover/UnionPay/Maestro.
  // Leaving 1, 7, 8, 9 out keeps millisecond timestamps and most order numbers out.
  if (digits[0] < '2' || digits[0] > '6') return false;
  if (s.Count() > 1) {
    if (!s.SameSep({" ", "-"})) return false;
    bool grouped = s.GroupSize(0) == 4;
    for (size_t k = 1; grouped && k + 1 < s.Count(); ++k) grouped = s.GroupSize(k) == 4;
    grouped = grouped && s.GroupSize(s.Count() - 1) >= 1 && s.GroupSize(s.Count() - 1) <= 4;
    const bool amex_like = s.Sizes({4, 6, 5}) || s.Sizes({4, 6, 4});
    if (!grouped && !amex_like) return false;
  }
  return Luhn(digits);
}

bool IsJpMyNumber(const Span& s) {
  if (s.prefix != 0 || !s.AllDigits() || s.AnyParen()) return false;
  if (!(s.Sizes({12}) || (s.Sizes({4, 4, 4}) && s.SameSep({" ", "-"})))) return false;
  const std::string d = s.Digits();
  // Check digit (My Number Act ordinance, Art. 5): P_n is the n-th digit from the right
  // before the check digit, Q_n = n + 1 for n <= 6 and n - 5 above.
  int sum = 0;
  for (int n = 1; n <= 11; ++n) {
    const int p = DigitValue(d[static_cast<size_t>(11 - n)]);
    const int q = n <= 6 ? n + 1 : n - 5;
    sum += p * q;
  }
  const int remainder = sum % 11;
  const int check = remainder <= 1 ? 0 : 11 - remainder;
  return DigitValue(d[11]) == check;
}

bool IsUsSsn(const Span& s) {
  if (s.prefix != 0 || !s.AllDigits() || !s.Sizes({3, 2, 4}) || !s.SameSep({"-", " "})) {
    return false;
  }
  const std::string_view area = s.GroupText(0);
  if (area == "000" || area == "666" || area[0] == '9') return false;
  return s.GroupText(1) != "00" && s.GroupText(2) != "0000";
}

bool IsNanp(std::string_view ten) {  // NPA-NXX-XXXX
  return ten.size() == 10 && ten[0] >= '2' && ten[3] >= '2';
}

bool IsCnMobile(std::string_view eleven) {
  return eleven.size() == 11 && eleven[0] == '1' && eleven[1] >= '3';
}

bool IsPhone(const Span& s) {
  if (!s.AllDigits()) return false;
  const std::string d = s.Digits();
  if (s.prefix == '+') {
    if (s.AnyParen() || !s.SameSep({" ", "-", "."}) || d.size() < 8 || d.size() > 15 ||
        d[0] == '0') {
      return false;
    }
    if (d.starts_with("86")) {
      // Mobile, or area code without its 0 (10 for Beijing) and a 7-8 digit number.
      const std::string_view national = std::string_view(d).substr(2);
      return national.size() >= 9 && national.size() <= 11 && national[0] != '0';
    }
    if (d[0] == '1') return IsNanp(std::string_view(d).substr(1));
    if (d.starts_with("33")) return d.size() == 11 && d[2] != '0';
    if (d.starts_with("81")) return (d.size() == 11 || d.size() == 12) && d[2] != '0';
    return true;  // E.164: country code, then at most 15 digits in all
  }
  if (s.prefix == '(') {
    // (415) 555-2671, (010)12345678, (03) 1234-5678
    const std::string_view first_sep = s.Count() > 1 ? s.Sep(0) : std::string_view();
    if (first_sep.empty() || first_sep[0] != ')') return false;
    for (size_t k = 1; k + 1 < s.Count(); ++k) {
      if (!IsLink(s.Sep(k)) || s.Sep(k).find(')') != std::string_view::npos) return false;
    }
    if (s.GroupText(0)[0] == '0') return d.size() >= 10 && d.size() <= 12;
    return s.Sizes({3, 3, 4}) && IsNanp(d);
  }
  if (s.AnyParen()) return false;
  // Mainland mobile: 13812345678, 138 1234 5678, 138-1234-5678.
  if ((s.Sizes({11}) || (s.Sizes({3, 4, 4}) && s.SameSep({" ", "-"}))) && IsCnMobile(d)) {
    return true;
  }
  if (s.Count() == 1) return false;  // other plans need their separators to be told from prose
  const std::string_view g0 = s.GroupText(0);
  // Mainland landline: 010-12345678, 0755 1234 5678.
  if (g0[0] == '0' && g0.size() >= 3 && g0.size() <= 4 && s.SameSep({"-", " "})) {
    if (s.Count() == 2 && s.GroupSize(1) >= 7 && s.GroupSize(1) <= 8) return true;
  }
  // NANP: 415-555-2671, 415.555.2671, 1-415-555-2671.
  if (s.SameSep({"-", ".", " "})) {
    if (s.Sizes({3, 3, 4}) && IsNanp(d)) return true;
    if (s.Sizes({1, 3, 3, 4}) && g0 == "1" && IsNanp(std::string_view(d).substr(1))) return true;
  }
  // France: 01 23 45 67 89, 06.12.34.56.78.
  if (s.Sizes({2, 2, 2, 2, 2}) && g0[0] == '0' && g0[1] != '0' && s.SameSep({" ", ".", "-"})) {
    return true;
  }
  // Japan and mainland area code + number: 03-1234-5678, 090-1234-5678, 0120-123-456.
  if (s.Count() == 3 && g0[0] == '0' && g0.size() >= 2 && g0.size() <= 5 && s.SameSep({"-", " "})) {
    if (d.size() == 10) return true;
    if (d.size() == 11) return d[1] >= '5' && d[1] != '6' && d[2] == '0';  // 050/070/080/090
  }
  return false;
}

std::optional<PiiType> Classify(const Span& span) {
  if (IsCnResidentId(span)) return PiiType::kCnResidentId;
  if (IsBankCard(span)) return PiiType::kBankCard;
  if (IsJpMyNumber(span)) return PiiType::kJpMyNumber;
  if (IsUsSsn(span)) return PiiType::kUsSsn;
  if (IsPhone(span)) return PiiType::kPhone;
  return std::nullopt;
}

std::vector<Group> DigitGroups(std::string_view text) {
  std::vector<Group> groups;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsDigit(text[end])) ++end;
    // A resident ID's check character may be X.
    if (end - i == 17 && end < text.size() && (text[end] == 'X' || text[end] == 'x')) ++end;
    groups.push_back({i, end});
    i = end;
  }
  return groups;
}

// A number starts and ends at a word boundary and is not part of a longer dotted or dashed
// number (1.2.3.4.5, 2024-01-15-001).
bool BoundaryBefore(std::string_view text, size_t at) {
  if (at == 0) return true;
  const char c = text[at - 1];
  if (IsAlnum(c) || c == '_') return false;
  if ((c == '.' || c == '-' || c == '+') && at >= 2 && IsDigit(text[at - 2])) return false;
  return true;
}
bool BoundaryAfter(std::string_view text, size_t at) {
  if (at >= text.size()) return true;
  const char c = text[at];
  if (IsAlnum(c) || c == '_') return false;
  if ((c == '.' || c == '-') && at + 1 < text.size() && IsDigit(text[at + 1])) return false;
  return true;
}

// The separator linking group k to the group after (or before) it, "" when none does.
std::string_view LinkTo(std::string_view text, const std::vector<Group>& groups, size_t k,
                        bool after) {
  if (after ? k + 1 >= groups.size() : k == 0) return {};
  const size_t from = after ? groups[k].end : groups[k - 1].end;
  const size_t to = after ? groups[k + 1].begin : groups[k].begin;
  const std::string_view between = text.substr(from, to - from);
  return IsLink(between) ? between : std::string_view();
}

void FindNumbers(std::string_view text, const std::vector<Group>& groups,
                 std::vector<Candidate>* out) {
  constexpr size_t kMaxDigits = 19;
  constexpr size_t kMinDigits = 8;  // the shortest kind: an E.164 number
  for (size_t first = 0; first < groups.size(); ++first) {
    // The longest run of linked groups from here that a number could fill.
    size_t last = first;
    size_t digits = groups[first].end - groups[first].begin;
    while (last + 1 < groups.size() &&
           IsLink(text.substr(groups[last].end, groups[last + 1].begin - groups[last].end))) {
      const size_t next = groups[last + 1].end - groups[last + 1].begin;
      if (digits + next > kMaxDigits) break;
      digits += next;
      ++last;
    }
    const size_t at = groups[first].begin;
    const char before = at > 0 ? text[at - 1] : '\0';
    // "(13812345678)" is a number in brackets, not an area code: without a match as
    // "(area) number" try again without the bracket. A '+' always belongs to the number.
    char prefixes[2] = {0, 0};
    size_t prefix_count = 0;
    if (before == '+' || before == '(') prefixes[prefix_count++] = before;
    if (before != '+') prefixes[prefix_count++] = 0;
    bool found = false;
    for (size_t p = 0; p < prefix_count; ++p) {
      const char prefix = prefixes[p];
      const size_t begin = prefix != 0 ? at - 1 : at;
      if (found || !BoundaryBefore(text, begin)) continue;
      size_t span_digits = digits;
      for (size_t end_group = last + 1; end_group-- > first;) {
        const size_t end = groups[end_group].end;
        if (end_group < last)
          span_digits -= groups[end_group + 1].end - groups[end_group + 1].begin;
        if (span_digits < kMinDigits) break;
        if (!BoundaryAfter(text, end)) continue;
        const Span span{text, &groups, first, end_group, prefix};
        // Grouped digits that go on with the same separator belong to a longer number:
        // "4111 1111 1111" inside a 16-digit card is not a My Number.
        if (span.Count() > 1 && (LinkTo(text, groups, first, /*after=*/false) == span.Sep(0) ||
                                 LinkTo(text, groups, end_group, /*after=*/true) == span.Sep(0))) {
          continue;
        }
        if (std::optional<PiiType> type = Classify(span)) {
          out->push_back({*type, begin, end});
          found = true;
          break;
        }
      }
    }
  }
}

// ---- IP addresses -------------------------------------------------------------------------

bool IsOctet(std::string_view s) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;
  int value = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    value = value * 10 + DigitValue(c);
  }
  return value <= 255;
}

void FindIpv4(std::string_view text, const std::vector<Group>& groups,
              std::vector<Candidate>* out) {
  for (size_t first = 0; first + 3 < groups.size(); ++first) {
    bool ok = true;
    for (size_t k = first; ok && k < first + 4; ++k) {
      ok = IsOctet(text.substr(groups[k].begin, groups[k].end - groups[k].begin));
      if (ok && k + 1 < first + 4) {
        ok = groups[k + 1].begin == groups[k].end + 1 && text[groups[k].end] == '.';
      }
    }
    const size_t begin = groups[first].begin;
    const size_t end = groups[first + 3].end;
    if (!ok || !BoundaryBefore(text, begin) || !BoundaryAfter(text, end)) continue;
    if (begin > 0 && text[begin - 1] == '.') continue;  // 1.2.3.4.5 as a whole is a version
    out->push_back({PiiType::kIpAddress, begin, end});
  }
}

bool IsIpv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  const std::string text(s);
  unsigned char buffer[16];
  if (inet_pton(AF_INET6, text.c_str(), buffer) != 1) return false;
  // Guards against words made of hex letters ("cafe::bad") and short forms like ::1 that
  // identify nobody: at least one digit and three filled groups (an embedded IPv4 counts 2).
  if (std::none_of(s.begin(), s.end(), IsDigit)) return false;
  size_t filled = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t colon = s.find(':', start);
    if (colon == std::string_view::npos) colon = s.size();
    const std::string_view field = s.substr(start, colon - start);
    if (!field.empty()) filled += field.find('.') != std::string_view::npos ? 2 : 1;
    start = colon + 1;
  }
  return filled >= 3;
}

void FindIpv6(std::string_view text, std::vector<Candidate>* out) {
  size_t i = 0;
  while (i < text.size()) {
    if (!(IsHex(text[i]) || text[i] == ':')) {
      ++i;
      continue;
    }
    size_t end = i;
    size_t colons = 0;
    while (end < text.size() && (IsHex(text[end]) || text[end] == ':' || text[end] == '.')) {
      if (text[end] == ':') ++colons;
      ++end;
    }
    const size_t begin = i;
    i = end;
    if (colons < 2 || (begin > 0 && (IsAlnum(text[begin - 1]) || text[begin - 1] == '_'))) {
      continue;
    }
    if (end < text.size() && (IsAlnum(text[end]) || text[end] == '_')) continue;
    // Sentence punctuation after an address ("... 2001:db8::1." or "2001:db8::1:") is not
    // part of it; try without it.
    size_t stop = end;
    while (stop > begin) {
      if (IsIpv6(text.substr(begin, stop - begin))) {
        out->push_back({PiiType::kIpAddress, begin, stop});
        break;
      }
      if (text[stop - 1] != '.' && text[stop - 1] != ':') break;
      --stop;
    }
  }
}

std::string LastFour(std::string_view value) {
  std::string kept;
  for (size_t i = value.size(); i-- > 0 && kept.size() < 4;) {
    if (IsDigit(value[i]) || value[i] == 'X' || value[i] == 'x')
      kept.insert(kept.begin(), value[i]);
  }
  return "***" + kept;
}

std::string MaskIp(std::string_view value) {
  if (value.find(':') == std::string_view::npos) {
    const size_t dot = value.rfind('.');
    return std::string(value.substr(0, dot + 1)) + "***";
  }
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, std::string(value).c_str(), bytes) != 1) return "***";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t g = 0; g < 3; ++g) {
    const unsigned word = (static_cast<unsigned>(bytes[2 * g]) << 8) | bytes[2 * g + 1];
    std::string field;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (word >> shift) & 0xfu;
      if (field.empty() && nibble == 0 && shift != 0) continue;
      field += kHex[nibble];
    }
    out += field + ":";
  }
  return out + "***";
}

// ---- placeholders -------------------------------------------------------------------------

constexpr std::string_view kPlaceholderOpen = "[[PII:";

enum class Match { kNo, kPrefix, kComplete };

// Whether text[at...] is a placeholder "[[PII:TAG:N]]", could still become one (the text
// ends first), or is not one. `length` gets the placeholder's size when complete.
Match MatchPlaceholder(std::string_view text, size_t at, size_t* length) {
  size_t i = at;
  for (char c : kPlaceholderOpen) {
    if (i == text.size()) return Match::kPrefix;
    if (text[i] != c) return Match::kNo;
    ++i;
  }
  size_t tag = 0;
  while (i < text.size() && ((text[i] >= 'A' && text[i] <= 'Z') || text[i] == '_')) {
    if (++tag > 9) return Match::kNo;
    ++i;
  }
  if (i == text.size()) return Match::kPrefix;
  if (tag == 0 || text[i] != ':') return Match::kNo;
  ++i;
  size_t digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    if (++digits > 9) return Match::kNo;
    ++i;
  }
  if (i == text.size()) return Match::kPrefix;
  if (digits == 0 || text[i] != ']') return Match::kNo;
  if (++i == text.size()) return Match::kPrefix;
  if (text[i] != ']') return Match::kNo;
  *length = i + 1 - at;
  return Match::kComplete;
}

// Restores text[0...) into `out`; returns where a possible placeholder prefix starts when
// `streaming` (text.size() when nothing is held back).
size_t RestoreInto(std::string_view text, const PiiRestoreMap& restore, bool streaming,
                   std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('[', i);
    if (open == std::string_view::npos) {
      out->append(text.substr(i));
      return text.size();
    }
    out->append(text.substr(i, open - i));
    size_t length = 0;
    switch (MatchPlaceholder(text, open, &length)) {
      case Match::kComplete: {
        const std::string_view placeholder = text.substr(open, length);
        const std::string* value = restore.Find(placeholder);
        out->append(value != nullptr ? std::string_view(*value) : placeholder);
        i = open + length;
        break;
      }
      case Match::kPrefix:
        if (streaming) return open;
        out->append(text.substr(open));
        return text.size();
      case Match::kNo:
        out->push_back('[');
        i = open + 1;
        break;
    }
  }
  return text.size();
}

std::string JoinTypes(const std::vector<PiiType>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += i + 1 == types.size() ? " and " : ", ";
    out += Describe(types[i]);
  }
  return out;
}

}  // namespace

// ---- names --------------------------------------------------------------------------------

std::string_view ToString(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "email";
    case PiiType::kPhone:
      return "phone";
    case PiiType::kCnResidentId:
      return "cn_resident_id";
    case PiiType::kBankCard:
      return "bank_card";
    case PiiType::kJpMyNumber:
      return "jp_my_number";
    case PiiType::kUsSsn:
      return "us_ssn";
    case PiiType::kIpAddress:
      return "ip_address";
  }
  return "unknown";
}

std::string_view Describe(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "an e-mail address";
    case PiiType::kPhone:
      return "a phone number";
    case PiiType::kCnResidentId:
      return "a mainland China resident ID number";
    case PiiType::kBankCard:
      return "a bank card number";
    case PiiType::kJpMyNumber:
      return "a Japanese My Number";
    case PiiType::kUsSsn:
      return "a US social security number";
    case PiiType::kIpAddress:
      return "an IP address";
  }
  return "personal data";
}

std::string_view PlaceholderTag(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "EMAIL";
    case PiiType::kPhone:
      return "PHONE";
    case PiiType::kCnResidentId:
      return "CN_ID";
    case PiiType::kBankCard:
      return "BANK_CARD";
    case PiiType::kJpMyNumber:
      return "MY_NUMBER";
    case PiiType::kUsSsn:
      return "SSN";
    case PiiType::kIpAddress:
      return "IP";
  }
  return "PII";
}

std::optional<PiiType> ParsePiiType(std::string_view name) {
  for (PiiType type : kAllPiiTypes) {
    if (ToString(type) == name) return type;
  }
  return std::nullopt;
}

std::string_view ToString(PiiAction action) {
  switch (action) {
    case PiiAction::kAllow:
      return "allow";
    case PiiAction::kMask:
      return "mask";
    case PiiAction::kBlock:
      return "block";
    case PiiAction::kReplaceAndRestore:
      return "replace_and_restore";
  }
  return "allow";
}

std::optional<PiiAction> ParsePiiAction(std::string_view name) {
  for (PiiAction action :
       {PiiAction::kAllow, PiiAction::kMask, PiiAction::kBlock, PiiAction::kReplaceAndRestore}) {
    if (ToString(action) == name) return action;
  }
  return std::nullopt;
}

// ---- detection ----------------------------------------------------------------------------

std::vector<PiiFinding> DetectPii(std::string_view text, std::span<const PiiType> types) {
  std::vector<Candidate> candidates;
  FindEmails(text, &candidates);
  const std::vector<Group> groups = DigitGroups(text);
  FindNumbers(text, groups, &candidates);
  FindIpv4(text, groups, &candidates);
  FindIpv6(text, &candidates);

  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (Priority(a.type) != Priority(b.type))
                       return Priority(a.type) < Priority(b.type);
                     if (a.end - a.begin != b.end - b.begin)
                       return a.end - a.begin > b.end - b.begin;
                     return a.begin < b.begin;
                   });
  std::vector<Candidate> kept;
  std::map<size_t, size_t> taken;  // begin -> end of the kept ones, which never overlap
  for (const Candidate& c : candidates) {
    const auto next = taken.lower_bound(c.begin);
    if (next != taken.end() && next->first < c.end) continue;
    if (next != taken.begin() && std::prev(next)->second > c.begin) continue;
    taken.emplace(c.begin, c.end);
    kept.push_back(c);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Candidate& a, const Candidate& b) { return a.begin < b.begin; });

  std::vector<PiiFinding> findings;
  for (const Candidate& c : kept) {
    if (std::find(types.begin(), types.end(), c.type) == types.end()) continue;
    PiiFinding f;
    f.type = c.type;
    f.begin = c.begin;
    f.end = c.end;
    f.value = std::string(text.substr(c.begin, c.end - c.begin));
    findings.push_back(std::move(f));
  }
  return findings;
}

std::string MaskPii(PiiType type, std::string_view value) {
  switch (type) {
    case PiiType::kEmail: {
      const size_t at = value.rfind('@');
      if (at == std::string_view::npos || at == 0) return "***";
      return std::string(value.substr(0, 1)) + "***" + std::string(value.substr(at));
    }
    case PiiType::kIpAddress:
      return MaskIp(value);
    case PiiType::kPhone:
    case PiiType::kCnResidentId:
    case PiiType::kBankCard:
    case PiiType::kJpMyNumber:
    case PiiType::kUsSsn:
      return LastFour(value);
  }
  return "***";
}

// ---- policy -------------------------------------------------------------------------------

std::vector<PiiType> PiiPolicy::Types() const {
  std::vector<PiiType> types;
  for (const auto& [type, action] : actions) types.push_back(type);
  return types;
}

PiiPolicy PiiPolicyFor(const Pii& pii, std::string region) {
  PiiPolicy policy;
  policy.region = std::move(region);
  if (!pii.present) return policy;
  for (const PiiRule& rule : pii.actions) {
    const std::optional<PiiType> type = ParsePiiType(rule.type);
    const std::optional<PiiAction> action = ParsePiiAction(rule.action);
    // A loaded manifest has only known names (the parser checks them).
    if (type && action) policy.actions[*type] = *action;
  }
  return policy;
}

PiiPolicy PiiPolicyFor(const RegionManifest& manifest) {
  return PiiPolicyFor(manifest.pii, manifest.region);
}

// ---- restore map --------------------------------------------------------------------------

std::string PiiRestoreMap::Add(PiiType type, std::string_view value, std::string_view avoid) {
  size_t count = 0;
  for (const Entry& e : entries_) {
    if (e.type == type && e.value == value) return e.placeholder;
    if (e.type == type) ++count;
  }
  std::string placeholder;
  for (size_t n = count + 1;; ++n) {
    placeholder = std::string(kPlaceholderOpen) + std::string(PlaceholderTag(type)) + ":" +
                  std::to_string(n) + "]]";
    if (by_placeholder_.count(placeholder) == 0 &&
        avoid.find(placeholder) == std::string_view::npos) {
      break;
    }
  }
  by_placeholder_.emplace(placeholder, entries_.size());
  entries_.push_back({placeholder, type, std::string(value)});
  return placeholder;
}

const std::string* PiiRestoreMap::Find(std::string_view placeholder) const {
  const auto it = by_placeholder_.find(placeholder);
  return it == by_placeholder_.end() ? nullptr : &entries_[it->second].value;
}

// ---- input, output ------------------------------------------------------------------------

PiiInputResult ProcessInput(const PiiPolicy& policy, std::string_view text,
                            const PiiRestoreMap& prior) {
  PiiInputResult result;
  result.restore = prior;
  if (policy.empty()) {
    result.text_for_provider = std::string(text);
    return result;
  }
  const std::vector<PiiType> types = policy.Types();
  result.findings = DetectPii(text, types);
  std::vector<PiiType> blocked;
  size_t copied = 0;
  for (PiiFinding& f : result.findings) {
    f.action = policy.actions.at(f.type);
    switch (f.action) {
      case PiiAction::kAllow:
        break;
      case PiiAction::kBlock:
        if (std::find(blocked.begin(), blocked.end(), f.type) == blocked.end()) {
          blocked.push_back(f.type);
        }
        break;
      case PiiAction::kMask:
        f.replacement = MaskPii(f.type, f.value);
        break;
      case PiiAction::kReplaceAndRestore:
        f.replacement = result.restore.Add(f.type, f.value, text);
        break;
    }
    if (f.action == PiiAction::kMask || f.action == PiiAction::kReplaceAndRestore) {
      result.text_for_provider.append(text.substr(copied, f.begin - copied));
      result.text_for_provider.append(f.replacement);
      copied = f.end;
    }
  }
  result.text_for_provider.append(text.substr(copied));
  if (!blocked.empty()) {
    result.text_for_provider.clear();
    result.restore = prior;
    std::string keys;
    for (PiiType t : blocked) keys += (keys.empty() ? "" : ", ") + std::string(ToString(t));
    result.blocked = Error{"RG-D001", "the request contains " + JoinTypes(blocked) +
                                          ", which region '" + policy.region +
                                          "' does not allow to be sent to a model provider "
                                          "(pii action 'block' for " +
                                          keys + "); remove it from the request and send it again"};
  }
  return result;
}

std::string RestorePii(std::string_view text, const PiiRestoreMap& restore) {
  std::string out;
  out.reserve(text.size());
  RestoreInto(text, restore, /*streaming=*/false, &out);
  return out;
}

std::string PiiStreamRestorer::Push(std::string_view chunk) {
  std::string out;
  if (held_.empty()) {
    // The common case: nothing held, so scan the chunk in place.
    const size_t hold = RestoreInto(chunk, restore_, /*streaming=*/true, &out);
    held_.assign(chunk.substr(hold));
    return out;
  }
  held_.append(chunk);
  const std::string pending = std::move(held_);
  held_.clear();
  const size_t hold = RestoreInto(pending, restore_, /*streaming=*/true, &out);
  held_.assign(pending, hold, std::string::npos);
  return out;
}

std::string PiiStreamRestorer::Finish() {
  std::string out;
  RestoreInto(held_, restore_, /*streaming=*/false, &out);
  held_.clear();
  return out;
}

nlohmann::json PiiSummaryJson(const std::vector<PiiFinding>& findings) {
  nlohmann::json summary = nlohmann::json::object();
  for (const PiiFinding& f : findings) {
    nlohmann::json& entry = summary[std::string(ToString(f.type))];
    entry["action"] = ToString(f.action);
    entry["count"] = entry.value("count", 0) + 1;
  }
  return summary;
}

}  // namespace rg::compliance
