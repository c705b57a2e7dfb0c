#include "arbiter/signals/sensitivity.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "arbiter/common/json.h"
#include "arbiter/signals/internal/checks.h"

namespace arbiter::signals {
namespace {

constexpr std::array<std::string_view, kKindCount> kKindNames = {
    "email", "phone", "card", "iban", "ssn", "ip", "secret", "password"};
constexpr std::array<std::string_view, kKindCount> kMarkers = {
    "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[SSN]", "[IP]", "[SECRET]", "[PASSWORD]"};
constexpr std::array<std::string_view, 4> kLevelNames = {"public", "internal", "confidential",
                                                         "restricted"};

// ---- Byte classes -------------------------------------------------------------------------------

enum : std::uint16_t {
  kSpaceF = 1,
  kDigitF = 2,
  kUpperF = 4,
  kLowerF = 8,
  kAtF = 16,
  kHighF = 32,
  kColonF = 64,
  kPunctF = 128,
  kHighKeyF = 256,  // a lead byte that starts a non-ASCII password keyword (Cyrillic, CJK, …)
};

constexpr std::array<std::uint16_t, 256> MakeClassTable() {
  std::array<std::uint16_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint16_t f = kPunctF;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') f = kSpaceF;
    if (c >= '0' && c <= '9') f = kDigitF;
    if (c >= 'A' && c <= 'Z') f = kUpperF;
    if (c >= 'a' && c <= 'z') f = kLowerF;
    if (c == '@') f = kAtF;
    if (c == ':') f = kColonF;
    if (c >= 0x80) f = kHighF;
    // Lead bytes of kPasswordWordsHigh: Cyrillic D0, Hebrew D7, Arabic D9, kana E3, Han E5/E5,
    // Hangul EB.
    if (c == 0xD0 || c == 0xD7 || c == 0xD9 || c == 0xE3 || c == 0xE5 || c == 0xEB) {
      f = kHighF | kHighKeyF;
    }
    t[static_cast<size_t>(c)] = f;
  }
  return t;
}
constexpr std::array<std::uint16_t, 256> kClass = MakeClassTable();

inline std::uint16_t Cls(unsigned char c) { return kClass[c]; }
inline bool IsSpace(unsigned char c) { return Cls(c) == kSpaceF; }
inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlpha(unsigned char c) { return IsUpper(c) || IsLower(c); }
inline bool IsAlnum(unsigned char c) { return (Cls(c) & (kDigitF | kUpperF | kLowerF)) != 0; }
inline bool IsHex(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline unsigned char Lower(unsigned char c) { return IsUpper(c) ? c + ('a' - 'A') : c; }

constexpr size_t kNone = 0;

// ---- Keywords -----------------------------------------------------------------------------------

// Password keywords that start with an ASCII letter; compared case-insensitively (ASCII only) at a
// token start, and must not be followed by an ASCII letter.
constexpr std::string_view kPasswordWords[] = {
    "password",     "passwort", "passwd",       "passcode",    "passphrase", "pwd",
    "pw",           "pass",     "kennwort",     "contraseña",  "contrasena", "clave",
    "mot de passe", "mdp",      "senha",        "wachtwoord",  "parola",     "hasło",
    "haslo",        "lösenord", "salasana",     "adgangskode", "heslo",      "jelszó",
    "parolă",       "sifre",    "palavra-passe"};
// For each first byte, the bit set of kPasswordWords that start with it.
constexpr std::array<std::uint32_t, 256> MakePasswordIndex() {
  std::array<std::uint32_t, 256> t{};
  for (size_t i = 0; i < std::size(kPasswordWords); ++i) {
    t[static_cast<unsigned char>(kPasswordWords[i][0])] |= std::uint32_t{1} << i;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kPasswordByFirst = MakePasswordIndex();
// For each second byte, the bit set of kPasswordWords whose second byte it is.
constexpr std::array<std::uint32_t, 256> MakePasswordSecondIndex() {
  std::array<std::uint32_t, 256> t{};
  for (size_t i = 0; i < std::size(kPasswordWords); ++i) {
    t[static_cast<unsigned char>(kPasswordWords[i][1])] |= std::uint32_t{1} << i;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kPasswordBySecond = MakePasswordSecondIndex();
static_assert(std::size(kPasswordWords) <= 32);

// Password keywords that start with a non-ASCII byte (searched for inside words that contain
// non-ASCII bytes), exact bytes.
constexpr std::string_view kPasswordWordsHigh[] = {
    "пароль", "Пароль", "ПАРОЛЬ", "密码", "密碼", "パスワード", "비밀번호", "סיסמה", "كلمة المرور"};

// Words that, written between keyword and value, mean "is": "my password is hunter2".
constexpr std::string_view kIsWords[] = {"is",  "ist", "es", "est", "é",  "è",  "är", "er",
                                         "era", "was", "=",  "是",  "は", "는", "이"};

// Secret prefixes: the prefix, the minimum length of what follows, and whether '.' may occur.
struct SecretPrefix {
  std::string_view prefix;
  size_t min_body;
};
constexpr SecretPrefix kSecretPrefixes[] = {
    {"AKIA", 16},     {"ASIA", 16},     {"ghp_", 30},        {"gho_", 30},     {"ghu_", 30},
    {"ghs_", 30},     {"ghr_", 30},     {"github_pat_", 40}, {"glpat-", 20},   {"xoxb-", 10},
    {"xoxp-", 10},    {"xoxa-", 10},    {"xoxr-", 10},       {"xoxs-", 10},    {"xapp-", 10},
    {"sk_live_", 16}, {"sk_test_", 16}, {"rk_live_", 16},    {"rk_test_", 16}, {"whsec_", 16},
    {"sk-proj-", 20}, {"sk-ant-", 20},  {"sk-", 32},         {"AIza", 30},     {"npm_", 30},
    {"shpat_", 24},   {"shpss_", 24},   {"hf_", 30},         {"pypi-", 40},    {"dop_v1_", 40},
    {"SG.", 40},      {"SK", 32},       {"AC", 32}};

// Words after which a token is a secret even without high entropy: "api key: 3f9a…".
constexpr std::string_view kSecretContext[] = {
    "token",  "api key",    "apikey",      "api_key",       "api-key",      "secret",
    "bearer", "access key", "private key", "client_secret", "authorization"};
constexpr std::string_view kReferenceContext[] = {
    "order",  "purchase", "invoice",    "ticket",   "ref",      "reference", "tracking", "pedido",
    "compra", "factura",  "bestellung", "rechnung", "commande", "facture",   "fatura",   "case"};
constexpr std::string_view kPhoneContext[] = {"phone",    "tel", "mobile", "cell",  "call",
                                              "whatsapp", "sms", "handy",  "movil", "fax"};

bool StartsWithNoCase(const unsigned char* p, size_t avail, std::string_view word) {
  if (avail < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (Lower(p[i]) != static_cast<unsigned char>(word[i])) return false;
  }
  return true;
}

// Case-insensitive (ASCII) search for any of `words` in s[from, to).
template <size_t N>
bool WindowContains(const unsigned char* s, size_t from, size_t to,
                    const std::string_view (&words)[N]) {
  for (size_t p = from; p < to; ++p) {
    for (auto w : words) {
      if (Lower(s[p]) == static_cast<unsigned char>(w[0]) && StartsWithNoCase(s + p, to - p, w)) {
        return true;
      }
    }
  }
  return false;
}

// ---- The scanner --------------------------------------------------------------------------------

struct Candidate {
  Kind kind;
  size_t begin;
  size_t end;
};

class Scanner {
 public:
  Scanner(std::string_view text, const ScanConfig& config, ScanResult& out)
      : s_(reinterpret_cast<const unsigned char*>(text.data())),
        n_(text.size()),
        config_(config),
        out_(out) {}

  void Run() {
    size_t i = 0;
    while (i < n_) {
      while (i < n_ && IsSpace(s_[i])) ++i;
      const size_t b = i;
      std::uint16_t flags = 0;
      while (i < n_ && !IsSpace(s_[i])) {
        flags |= Cls(s_[i]);
        ++i;
      }
      if (b == i) break;
      const size_t resume = Word(b, i, flags);
      i = std::max(i, resume);
    }
  }

 private:
  // Scans the word s_[b, e) (no spaces inside). Returns where scanning resumes (a match may extend
  // past the word, e.g. a card number written in groups).
  size_t Word(size_t b, size_t e, std::uint16_t flags) {
    // Fast path for the common word: letters only, short. Only a password keyword can start here.
    if ((flags & ~(kUpperF | kLowerF)) == 0 && e - b < 16) {
      const size_t end = Password(b);
      if (end == kNone) return e;
      Emit(Kind::kPassword, pw_begin_, end);
      return std::max(e, end);
    }
    // Short words of letters (any script) and punctuation: only passwords and PEM blocks.
    if ((flags & (kDigitF | kAtF | kColonF | kHighKeyF)) == 0 && e - b < 16) {
      size_t resume = e;
      for (size_t j = b; j < e; ++j) {
        if (j > b && IsAlnum(s_[j - 1])) continue;
        size_t end = kNone;
        if (IsAlpha(s_[j])) {
          end = Password(j);
          if (end != kNone) Emit(Kind::kPassword, pw_begin_, end);
        } else if (s_[j] == '-') {
          end = PrivateKeyBlock(j);
          if (end != kNone) Emit(Kind::kSecret, j, end);
        }
        if (end != kNone) {
          resume = std::max(resume, end);
          if (end >= e) break;
          j = end - 1;
        }
      }
      return resume;
    }
    cands_.clear();
    size_t resume = e;
    if ((flags & kAtF) != 0) Emails(b, e);
    if ((flags & kHighKeyF) != 0) HighPasswords(b, e);
    const bool has_digit = (flags & kDigitF) != 0;
    const bool has_colon = (flags & kColonF) != 0;
    const bool long_word = e - b >= 16;
    size_t secret_scanned = b;  // generic secret runs are examined once each
    for (size_t j = b; j < e;) {
      const unsigned char c = s_[j];
      if (j > b && IsAlnum(s_[j - 1])) {
        ++j;
        continue;
      }
      size_t end = kNone;
      Kind kind = Kind::kEmail;
      if (has_colon && (IsHex(c) || c == ':')) {
        end = Ipv6(j);
        kind = Kind::kIp;
      }
      if (end == kNone && has_digit && (IsDigit(c) || c == '+' || c == '(')) {
        end = Numeric(j, kind);
      }
      if (end == kNone && IsUpper(c) && has_digit) {
        end = Iban(j);
        kind = Kind::kIban;
      }
      if (end == kNone && IsAlpha(c)) {
        end = Password(j);
        kind = Kind::kPassword;
      }
      if (end == kNone && c == '-') {
        end = PrivateKeyBlock(j);
        kind = Kind::kSecret;
      }
      if (end == kNone && long_word && IsAlnum(c)) {
        end = Secret(j, secret_scanned);
        kind = Kind::kSecret;
      }
      if (end != kNone) {
        if (kind == Kind::kPassword) {
          // Password() reports the value's span through pw_begin_.
          cands_.push_back({kind, pw_begin_, end});
        } else {
          cands_.push_back({kind, j, end});
        }
        resume = std::max(resume, end);
        j = end;
        continue;
      }
      ++j;
    }
    EmitCandidates();
    return resume;
  }

  void EmitCandidates() {
    if (cands_.empty()) return;
    std::sort(cands_.begin(), cands_.end(), [](const Candidate& a, const Candidate& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
    });
    for (const auto& c : cands_) Emit(c.kind, c.begin, c.end);
  }

  void Emit(Kind kind, size_t b, size_t e) {
    if (b < last_end_ || e <= b) return;
    last_end_ = e;
    if (!config_.Enabled(kind)) return;
    ++out_.counts[static_cast<size_t>(kind)];
    const Level level = config_.LevelOf(kind);
    if (level > out_.level) out_.level = level;
    if (out_.spans.size() < config_.max_spans) out_.spans.push_back({kind, b, e});
  }

  // -- e-mail --
  static bool IsLocalChar(unsigned char c) {
    return IsAlnum(c) || c >= 0x80 || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  }
  static bool IsDomainChar(unsigned char c) {
    return IsAlnum(c) || c >= 0x80 || c == '.' || c == '-';
  }

  void Emails(size_t b, size_t e) {
    for (size_t p = b; p < e; ++p) {
      if (s_[p] != '@') continue;
      size_t l = p;
      while (l > b && p - l < 64 && IsLocalChar(s_[l - 1])) --l;
      while (l < p && (s_[l] == '.' || s_[l] == '-' || s_[l] == '+')) ++l;
      if (l == p) continue;
      const size_t d = p + 1;
      size_t r = d;
      while (r < e && r - d < 253 && IsDomainChar(s_[r])) ++r;
      while (r > d && (s_[r - 1] == '.' || s_[r - 1] == '-')) --r;
      // Needs at least one dot, no empty label, and a top-level label of two or more letters.
      size_t last_dot = kNone;
      bool ok = r > d && s_[d] != '.' && s_[d] != '-';
      for (size_t k = d; ok && k < r; ++k) {
        if (s_[k] == '.') {
          if (s_[k - 1] == '.') ok = false;
          last_dot = k;
        }
      }
      if (!ok || last_dot == kNone || r - last_dot - 1 < 2) continue;
      for (size_t k = last_dot + 1; k < r; ++k) {
        if (!IsAlpha(s_[k]) && s_[k] < 0x80) ok = false;
      }
      if (!ok) continue;
      cands_.push_back({Kind::kEmail, l, r});
      p = r - 1;
    }
  }

  // -- numbers: IPv4, SSN, card, phone --
  struct Group {
    size_t begin;
    size_t end;
    unsigned char sep;  // separator before this group (0 for the first or none)
    bool paren;
  };

  // Parses digit groups from j: "+44 20 7946 0958", "(977) 625-2661", "4111-1111-1111-1111".
  // Returns the number of groups (0 when j does not start one) and whether a '+' leads.
  size_t Groups(size_t j, Group* g, size_t max, bool& plus) {
    size_t k = j;
    plus = false;
    if (s_[k] == '+') {
      plus = true;
      ++k;
    }
    size_t count = 0;
    unsigned char sep = 0;
    while (k < n_ && count < max) {
      bool paren = false;
      if (s_[k] == '(') {
        paren = true;
        ++k;
      }
      const size_t gb = k;
      while (k < n_ && IsDigit(s_[k]) && k - gb < 20) ++k;
      if (k == gb || k - gb >= 20) return 0;
      const size_t ge = k;
      if (paren) {
        if (k >= n_ || s_[k] != ')' || ge - gb > 5) return count;
        ++k;
      }
      g[count++] = {gb, ge, sep, paren};
      // A separator continues the number only when a digit (or an opening parenthesis) follows.
      if (k >= n_) break;
      const unsigned char c = s_[k];
      if (paren && IsDigit(c)) {
        sep = 0;
        continue;
      }
      if ((c == ' ' || c == '-' || c == '.' || c == '/') && k + 1 < n_ &&
          (IsDigit(s_[k + 1]) || (c == ' ' && s_[k + 1] == '('))) {
        sep = c;
        ++k;
        continue;
      }
      break;
    }
    return count;
  }

  size_t Ipv4(size_t j) const {
    size_t k = j;
    for (int part = 0; part < 4; ++part) {
      const size_t pb = k;
      int v = 0;
      while (k < n_ && IsDigit(s_[k]) && k - pb < 3) v = v * 10 + (s_[k++] - '0');
      if (k == pb || v > 255 || (k < n_ && IsDigit(s_[k]))) return kNone;
      if (part < 3) {
        if (k + 1 >= n_ || s_[k] != '.' || !IsDigit(s_[k + 1])) return kNone;
        ++k;
      }
    }
    if (k < n_ && (IsAlpha(s_[k]) || (s_[k] == '.' && k + 1 < n_ && IsDigit(s_[k + 1])))) {
      return kNone;
    }
    return k;
  }

  // True when the word just before j (past separators such as ": " or ". ") is one of `words`.
  template <size_t N>
  bool PrecededBy(size_t j, const std::string_view (&words)[N]) const {
    size_t k = j;
    while (k > 0 && j - k < 4 &&
           (s_[k - 1] == ' ' || s_[k - 1] == ':' || s_[k - 1] == '.' || s_[k - 1] == '#' ||
            s_[k - 1] == '-')) {
      --k;
    }
    // Allow "order number 123", "order no. 123", "invoice #123".
    for (std::string_view filler : {"number", "no", "nr", "id", "num"}) {
      if (k >= filler.size() + 1 &&
          StartsWithNoCase(s_ + k - filler.size(), filler.size(), filler) &&
          s_[k - filler.size() - 1] == ' ') {
        k -= filler.size() + 1;
        break;
      }
    }
    for (auto w : words) {
      if (k >= w.size() && StartsWithNoCase(s_ + k - w.size(), w.size(), w) &&
          (k == w.size() || !IsAlpha(s_[k - w.size() - 1]))) {
        return true;
      }
    }
    return false;
  }
  bool PhoneContext(size_t j) const { return PrecededBy(j, kPhoneContext); }
  bool ReferenceContext(size_t j) const { return PrecededBy(j, kReferenceContext); }

  size_t Numeric(size_t j, Kind& kind) {
    const size_t end = NumericShape(j, kind);
    // A number right after "order", "invoice", "ticket" … is that, whatever its digits (checked
    // last: most numbers fail the shape tests first).
    if (end != kNone && (kind == Kind::kCard || kind == Kind::kPhone) && s_[j] != '+' &&
        ReferenceContext(j)) {
      return kNone;
    }
    return end;
  }

  size_t NumericShape(size_t j, Kind& kind) {
    if (j > 0 && (s_[j - 1] == '.' || s_[j - 1] == '-' || s_[j - 1] == '/' || s_[j - 1] == '+'))
      return kNone;
    if (IsDigit(s_[j])) {
      if (size_t e = Ipv4(j); e != kNone) {
        kind = Kind::kIp;
        return e;
      }
    }
    Group g[12];
    bool plus = false;
    const size_t count = Groups(j, g, 12, plus);
    if (count == 0) return kNone;
    // The tail of a longer chain of short digit groups ("DE89 3704 0044 …" after a failed IBAN)
    // starts nothing.
    if (!plus && s_[j] != '(' && j >= 2 && s_[j - 1] == ' ' && IsDigit(s_[j - 2]) &&
        (count == 1 || g[1].sep == ' ')) {
      size_t run = 0;
      while (run < 7 && j - 1 > run && IsDigit(s_[j - 2 - run])) ++run;
      if (run <= 6) return kNone;
    }
    auto len = [&](size_t i) { return g[i].end - g[i].begin; };
    auto after_ok = [&](size_t end) { return end >= n_ || !IsAlpha(s_[end]); };
    bool any_paren = false;
    for (size_t i = 0; i < count; ++i) any_paren = any_paren || g[i].paren;

    // US SSN: ddd-dd-dddd (or spaces), not part of a longer group chain with the same separator.
    if (!plus && !any_paren && count >= 3 && len(0) == 3 && len(1) == 2 && len(2) == 4 &&
        (g[1].sep == '-' || g[1].sep == ' ') && g[2].sep == g[1].sep &&
        (count == 3 || g[3].sep != g[1].sep) && after_ok(g[2].end)) {
      char d[9];
      std::memcpy(d, s_ + g[0].begin, 3);
      std::memcpy(d + 3, s_ + g[1].begin, 2);
      std::memcpy(d + 5, s_ + g[2].begin, 4);
      if (internal::SsnValid(std::string_view(d, 9))) {
        kind = Kind::kSsn;
        return g[2].end;
      }
    }

    // Payment card: one run of 13-19 digits, or groups of 3-6 digits with one separator.
    if (!plus && !g[0].paren) {
      char digits[24];
      if (len(0) >= 13 && len(0) <= 19) {
        const std::string_view d(reinterpret_cast<const char*>(s_ + g[0].begin), len(0));
        if (after_ok(g[0].end) && internal::LuhnValid(d) && internal::KnownCardPrefix(d)) {
          kind = Kind::kCard;
          return g[0].end;
        }
      } else if (count >= 2 && len(0) >= 4 && len(0) <= 6 && (g[1].sep == ' ' || g[1].sep == '-')) {
        size_t total = 0;
        size_t k = 0;
        size_t best = kNone;
        while (k < count && !g[k].paren && (k == 0 || g[k].sep == g[1].sep) && len(k) >= 3 &&
               len(k) <= 6 && total + len(k) <= 19) {
          std::memcpy(digits + total, s_ + g[k].begin, len(k));
          total += len(k);
          ++k;
          if (total >= 13 && k >= 2) {
            const std::string_view d(digits, total);
            if (after_ok(g[k - 1].end) && internal::LuhnValid(d) && internal::KnownCardPrefix(d)) {
              best = g[k - 1].end;
            }
          }
        }
        if (best != kNone) {
          kind = Kind::kCard;
          return best;
        }
      }
    }

    // Phone: take the longest prefix of groups with at most 15 digits.
    size_t total = 0;
    size_t k = 0;
    while (k < count && total + len(k) <= 15) total += len(k++);
    if (k == 0 || total < 7) return kNone;
    // A chain that continues past 15 digits is some other number (an account, a bad IBAN).
    if (!plus && k < count && g[k].sep == g[k - 1].sep && g[k].sep != 0) return kNone;
    const size_t end = g[k - 1].end;
    if (!after_ok(end)) return kNone;
    bool ok = false;
    if (plus) {
      ok = total >= 8;
    } else if (g[0].paren) {
      ok = total >= 9 && len(0) >= 2;
    } else if (k >= 3) {
      bool groups_ok = true;
      bool thousands = true;
      for (size_t i = 0; i < k; ++i) {
        if (len(i) < 2 || len(i) > 8 || g[i].paren) groups_ok = false;
        if (i > 0 && (len(i) != 3 || g[i].sep != g[1].sep)) thousands = false;
      }
      const bool date = (len(0) == 4 && len(1) == 2 && len(2) == 2) ||
                        (len(0) <= 2 && len(1) <= 2 && len(2) == 4);
      const bool ssn_shape = k == 3 && len(0) == 3 && len(1) == 2 && len(2) == 4;
      // Without a country code: a national trunk prefix ("030 1234 5678") or the North American
      // 3-3-4 shape; other chains of groups are account numbers, references, amounts.
      const bool trunk = s_[g[0].begin] == '0' && len(0) <= 5;
      const bool nanp =
          k == 3 && len(0) == 3 && len(1) == 3 && len(2) == 4 && s_[g[0].begin] >= '2';
      ok = groups_ok && !thousands && !date && !ssn_shape && total >= 9 && len(k - 1) >= 3 &&
           (trunk || nanp);
    } else if (k == 2) {
      ok = s_[g[0].begin] == '0' && len(0) >= 2 && len(0) <= 5 && total >= 9 && g[1].sep != '.';
    } else {
      ok = total >= 10 && total <= 13 && PhoneContext(j);
    }
    if (!ok) return kNone;
    kind = Kind::kPhone;
    return end;
  }

  // -- IPv6 --
  size_t Ipv6(size_t j) const {
    if (j > 0 && (s_[j - 1] == ':' || s_[j - 1] == '.')) return kNone;
    size_t k = j;
    size_t groups = 0;
    bool compressed = false;
    bool any_digit = false;
    if (s_[k] == ':') {
      if (k + 1 >= n_ || s_[k + 1] != ':') return kNone;
      compressed = true;
      k += 2;
    }
    while (k < n_ && groups < 8) {
      const size_t gb = k;
      while (k < n_ && IsHex(s_[k]) && k - gb < 5) {
        any_digit = any_digit || IsDigit(s_[k]);
        ++k;
      }
      if (k == gb) break;
      if (k - gb > 4) return kNone;
      // Embedded IPv4 in the last 32 bits ("::ffff:192.0.2.1").
      if (k + 1 < n_ && s_[k] == '.' && IsDigit(s_[k + 1]) && groups <= 6) {
        bool decimal = true;
        for (size_t i = gb; i < k; ++i) decimal = decimal && IsDigit(s_[i]);
        if (decimal) {
          const size_t e4 = Ipv4(gb);
          if (e4 == kNone) return kNone;
          groups += 2;
          k = e4;
          break;
        }
      }
      ++groups;
      if (k + 1 < n_ && s_[k] == ':' && s_[k + 1] == ':') {
        if (compressed) break;
        compressed = true;
        k += 2;
        continue;
      }
      if (k + 1 < n_ && s_[k] == ':' && IsHex(s_[k + 1])) {
        ++k;
        continue;
      }
      break;
    }
    const bool valid = compressed ? (groups >= 1 && groups <= 7) : groups == 8;
    if (!valid || (!any_digit && groups < 3)) return kNone;
    if (k < n_ && (IsAlnum(s_[k]) || s_[k] == ':')) return kNone;
    return k;
  }

  // -- IBAN --
  size_t Iban(size_t j) const {
    if (j + 15 > n_ || !IsUpper(s_[j + 1]) || !IsDigit(s_[j + 2]) || !IsDigit(s_[j + 3])) {
      return kNone;
    }
    char compact[34];
    size_t len = 0;
    size_t k = j;
    size_t end = j;
    while (k < n_ && len < 34) {
      const unsigned char c = s_[k];
      if (IsUpper(c) || IsDigit(c)) {
        compact[len++] = static_cast<char>(c);
        end = ++k;
        // Try each plausible length: the registry fixes one length per country.
        // The registry fixes one length per country, so the first valid length is the IBAN.
        if (len >= 15 && (k >= n_ || !IsAlnum(s_[k])) &&
            internal::IbanValid(std::string_view(compact, len))) {
          return end;
        }
        continue;
      }
      if (c == ' ' && k + 1 < n_ && IsAlnum(s_[k + 1]) && len % 4 == 0) {
        ++k;
        continue;
      }
      break;
    }
    return kNone;
  }

  // -- passwords --
  static bool IsPlaceholder(const unsigned char* v, size_t len) {
    if (len >= 2 && v[0] == '{' && v[1] == '{') return true;
    if (v[0] == '<' || v[0] == '[' || v[0] == '{') return true;
    bool stars = true;
    for (size_t i = 0; i < len; ++i) stars = stars && (v[i] == '*' || v[i] == 'x' || v[i] == 'X');
    return stars;
  }

  // Reads the value after a keyword that ended at k. Sets pw_begin_ and returns the value's end.
  size_t PasswordValue(size_t k) {
    size_t spaces = 0;
    while (k < n_ && (s_[k] == ' ' || s_[k] == '\t') && spaces < 4) ++k, ++spaces;
    bool separator = false;
    bool is_word = false;
    // Optional parenthesised qualifier or "'s"? Not accepted: keep the rule simple and strict.
    if (k < n_ && (s_[k] == ':' || s_[k] == '=')) {
      separator = true;
      ++k;
    } else if (k + 2 < n_ && s_[k] == 0xEF && s_[k + 1] == 0xBC && s_[k + 2] == 0x9A) {
      separator = true;  // full-width colon
      k += 3;
    } else {
      for (auto w : kIsWords) {
        if (StartsWithNoCase(s_ + k, n_ - k, w)) {
          const size_t after = k + w.size();
          const bool high = static_cast<unsigned char>(w[0]) >= 0x80;
          if (high || after >= n_ || s_[after] == ' ' || s_[after] == ':') {
            separator = true;
            is_word = true;
            k = after;
            if (k < n_ && s_[k] == ':') ++k;
            break;
          }
        }
      }
    }
    if (!separator) return kNone;
    spaces = 0;
    while (k < n_ && (s_[k] == ' ' || s_[k] == '\t') && spaces < 4) ++k, ++spaces;
    if (k < n_ && s_[k] == 0xEF && k + 2 < n_ && s_[k + 1] == 0xBC && s_[k + 2] == 0x9A) k += 3;
    size_t v = k;
    bool quoted = false;
    if (v < n_ && (s_[v] == '"' || s_[v] == '\'' || s_[v] == '`')) {
      quoted = true;
      ++v;
    }
    size_t e = v;
    while (e < n_ && !IsSpace(s_[e]) && e - v < 128) ++e;
    if (e - v >= 128) return kNone;
    // Trim trailing sentence punctuation (ASCII, and the ideographic full stop and comma).
    while (e > v) {
      const unsigned char c = s_[e - 1];
      if (c == '.' || c == ',' || c == ';' || (quoted && (c == '"' || c == '\'' || c == '`')) ||
          c == ')') {
        --e;
      } else if (e - v >= 3 && s_[e - 3] == 0xE3 && s_[e - 2] == 0x80 && s_[e - 1] == 0x82) {
        e -= 3;
      } else if (e - v >= 3 && s_[e - 3] == 0xEF && s_[e - 2] == 0xBC && s_[e - 1] == 0x8C) {
        e -= 3;
      } else {
        break;
      }
    }
    if (e - v < 4 || IsPlaceholder(s_ + v, e - v)) return kNone;
    if (is_word) {
      // "my password is incorrect" is not a password: demand two character classes.
      int classes = 0;
      bool lower = false, upper = false, digit = false, other = false;
      for (size_t i = v; i < e; ++i) {
        const unsigned char c = s_[i];
        lower = lower || IsLower(c);
        upper = upper || IsUpper(c);
        digit = digit || IsDigit(c);
        other = other || (!IsAlnum(c) && c < 0x80);
      }
      classes = lower + upper + digit + other;
      if (classes < 2) return kNone;
    }
    pw_begin_ = v;
    return e;
  }

  size_t Password(size_t j) {
    const unsigned char first = Lower(s_[j]);
    if (j + 1 >= n_) return kNone;
    std::uint32_t candidates = kPasswordByFirst[first] & kPasswordBySecond[Lower(s_[j + 1])];
    while (candidates != 0) {
      const int i = __builtin_ctz(candidates);
      candidates &= candidates - 1;
      const std::string_view w = kPasswordWords[i];
      if (!StartsWithNoCase(s_ + j, n_ - j, w)) continue;
      const size_t k = j + w.size();
      if (k < n_ && (IsAlpha(s_[k]) || s_[k] >= 0x80)) continue;
      const size_t e = PasswordValue(k);
      if (e != kNone) return e;
    }
    return kNone;
  }

  void HighPasswords(size_t b, size_t e) {
    const std::string_view word(reinterpret_cast<const char*>(s_ + b), e - b);
    for (auto w : kPasswordWordsHigh) {
      for (size_t p = word.find(w); p != std::string_view::npos; p = word.find(w, p + 1)) {
        const size_t end = PasswordValue(b + p + w.size());
        if (end != kNone) cands_.push_back({Kind::kPassword, pw_begin_, end});
      }
    }
  }

  // -- secrets --
  static bool IsTokenChar(unsigned char c) { return IsAlnum(c) || c == '_' || c == '-'; }
  static bool IsBase64Char(unsigned char c) { return IsTokenChar(c) || c == '+' || c == '/'; }

  size_t TokenEnd(size_t k, bool dots) const {
    const size_t start = k;
    while (k < n_ && k - start < 4096 && (IsTokenChar(s_[k]) || (dots && s_[k] == '.'))) ++k;
    return k;
  }

  size_t PrivateKeyBlock(size_t j) const {
    constexpr std::string_view kBegin = "-----BEGIN ";
    constexpr std::string_view kEnd = "-----END ";
    const std::string_view rest(reinterpret_cast<const char*>(s_ + j),
                                std::min<size_t>(n_ - j, 16384));
    if (rest.substr(0, kBegin.size()) != kBegin) return kNone;
    const size_t header_end = rest.find("-----", kBegin.size());
    if (header_end == std::string_view::npos) return kNone;
    if (rest.substr(kBegin.size(), header_end - kBegin.size()).find("PRIVATE KEY") ==
        std::string_view::npos) {
      return kNone;
    }
    const size_t end_marker = rest.find(kEnd, header_end + 5);
    if (end_marker == std::string_view::npos) return kNone;
    const size_t close = rest.find("-----", end_marker + kEnd.size());
    if (close == std::string_view::npos) return kNone;
    return j + close + 5;
  }

  size_t Jwt(size_t j) const {
    // header.payload.signature, base64url; header and payload are JSON objects ("eyJ").
    size_t k = TokenEnd(j, false);
    if (k - j < 10 || k >= n_ || s_[k] != '.') return kNone;
    const size_t p = k + 1;
    if (p + 3 > n_ || s_[p] != 'e' || s_[p + 1] != 'y' || s_[p + 2] != 'J') return kNone;
    k = TokenEnd(p, false);
    if (k - p < 10 || k >= n_ || s_[k] != '.') return kNone;
    const size_t sig = k + 1;
    k = TokenEnd(sig, false);
    return k - sig >= 10 ? k : kNone;
  }

  bool SecretContext(size_t j) const {
    const size_t from = j > 40 ? j - 40 : 0;
    return WindowContains(s_, from, j, kSecretContext);
  }

  size_t Secret(size_t j, size_t& scanned) {
    if (s_[j] == 'e' && j + 3 < n_ && s_[j + 1] == 'y' && s_[j + 2] == 'J') {
      if (size_t e = Jwt(j); e != kNone) return e;
    }
    for (const auto& p : kSecretPrefixes) {
      if (static_cast<unsigned char>(p.prefix[0]) != s_[j]) continue;
      if (n_ - j < p.prefix.size() + p.min_body) continue;
      if (std::memcmp(s_ + j, p.prefix.data(), p.prefix.size()) != 0) continue;
      const size_t body = j + p.prefix.size();
      const size_t e = TokenEnd(body, p.prefix == "SG.");
      if (e - body < p.min_body || e - body > 512) continue;
      if ((p.prefix == "SK" || p.prefix == "AC")) {
        // Twilio: SK/AC followed by exactly 32 hex digits.
        bool hex = e - body == 32;
        for (size_t i = body; hex && i < e; ++i) hex = IsHex(s_[i]) && !IsUpper(s_[i]);
        if (!hex) continue;
      }
      if (p.prefix == "AKIA" || p.prefix == "ASIA") {
        bool ok = e - body == 16;
        for (size_t i = body; ok && i < e; ++i) ok = IsUpper(s_[i]) || IsDigit(s_[i]);
        if (!ok) continue;
      }
      return e;
    }
    // Generic: a long run of base64/base64url characters that looks random.
    if (j < scanned || !IsAlnum(s_[j])) return kNone;
    size_t e = j;
    while (e < n_ && e - j <= 1024 && IsBase64Char(s_[e])) ++e;
    scanned = e;
    // '=' only as padding at the end ("key=value" separates a name from a value).
    while (e < n_ && e - j <= 1024 && s_[e] == '=' && (e + 1 >= n_ || !IsAlnum(s_[e + 1]))) ++e;
    while (e > j && s_[e - 1] == '-') --e;
    const size_t len = e - j;
    if (len < 16 || len > 1024) return kNone;
    int lower = 0, upper = 0, digit = 0, switches = 0;
    int prev_class = -1;
    for (size_t i = j; i < e; ++i) {
      const unsigned char c = s_[i];
      const int cls = IsLower(c) ? 0 : IsUpper(c) ? 1 : IsDigit(c) ? 2 : 3;
      lower += cls == 0;
      upper += cls == 1;
      digit += cls == 2;
      if (prev_class >= 0 && cls != prev_class) ++switches;
      prev_class = cls;
    }
    const std::string_view run(reinterpret_cast<const char*>(s_ + j), len);
    if (len >= 20 && lower > 0 && upper > 0 && digit >= 2 &&
        static_cast<double>(switches) >= 0.3 * static_cast<double>(len) &&
        internal::ShannonEntropy(run) >= (len >= 32 ? 4.0 : 3.6)) {
      return e;
    }
    // Weaker evidence suffices after "token:", "api key", "secret", "bearer".
    if (digit > 0 && (lower + upper) > 0 && internal::ShannonEntropy(run) >= 3.0 &&
        SecretContext(j)) {
      return e;
    }
    return kNone;
  }

  const unsigned char* s_;
  size_t n_;
  const ScanConfig& config_;
  ScanResult& out_;
  size_t last_end_ = 0;
  size_t pw_begin_ = 0;
  std::vector<Candidate> cands_;
};

}  // namespace

std::string_view KindName(Kind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::optional<Kind> ParseKind(std::string_view name) {
  for (size_t i = 0; i < kKindCount; ++i) {
    if (kKindNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string_view RedactionMarker(Kind kind) { return kMarkers[static_cast<size_t>(kind)]; }

std::string_view LevelName(Level level) { return kLevelNames[static_cast<size_t>(level)]; }

std::optional<Level> ParseLevel(std::string_view name) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  return std::nullopt;
}

Result<ScanConfig> ScanConfigFromJson(const boost::json::value& json) {
  ScanConfig config;
  ARBITER_TRY(const boost::json::object* root, AsObject(json, "scan config"));
  for (const auto& kv : *root) {
    if (kv.key() != "levels" && kv.key() != "disabled" && kv.key() != "max_spans") {
      return Status::InvalidArgument("scan config." + std::string(kv.key()) +
                                     ": unknown field (expected levels, disabled, max_spans)");
    }
  }
  if (const auto* levels = root->if_contains("levels")) {
    ARBITER_TRY(const boost::json::object* lo, AsObject(*levels, "scan config.levels"));
    for (const auto& kv : *lo) {
      const std::string where = "scan config.levels." + std::string(kv.key());
      auto kind = ParseKind(kv.key());
      if (!kind) return Status::InvalidArgument(where + ": unknown kind");
      if (!kv.value().is_string()) return Status::InvalidArgument(where + ": expected a string");
      const std::string_view name = kv.value().get_string();
      auto level = ParseLevel(name);
      if (!level) {
        return Status::InvalidArgument(where + ": `" + std::string(name) +
                                       "` is not one of public, internal, confidential, "
                                       "restricted");
      }
      config.level_of[static_cast<size_t>(*kind)] = *level;
    }
  }
  if (const auto* disabled = root->if_contains("disabled")) {
    if (!disabled->is_array()) {
      return Status::InvalidArgument("scan config.disabled: expected an array of kind names");
    }
    const auto& arr = disabled->get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string where = "scan config.disabled[" + std::to_string(i) + "]";
      if (!arr[i].is_string()) return Status::InvalidArgument(where + ": expected a string");
      auto kind = ParseKind(arr[i].get_string());
      if (!kind) {
        return Status::InvalidArgument(where + ": `" + std::string(arr[i].get_string()) +
                                       "` is not a kind");
      }
      config.enabled[static_cast<size_t>(*kind)] = false;
    }
  }
  if (const auto* max = root->if_contains("max_spans")) {
    if (!max->is_int64() || max->get_int64() < 0) {
      return Status::InvalidArgument("scan config.max_spans: expected a non-negative integer");
    }
    config.max_spans = static_cast<size_t>(max->get_int64());
  }
  return config;
}

ScanResult ScanText(std::string_view text, const ScanConfig& config) {
  ScanResult result;
  Scanner(text, config, result).Run();
  return result;
}

std::string Redact(std::string_view text, const std::vector<Span>& spans) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& s : spans) {
    if (s.begin < pos || s.end <= s.begin || s.end > text.size()) continue;
    out.append(text.substr(pos, s.begin - pos));
    out.append(RedactionMarker(s.kind));
    pos = s.end;
  }
  out.append(text.substr(pos));
  return out;
}

boost::json::value ScanResultToJson(const ScanResult& result) {
  boost::json::object o;
  o["level"] = LevelName(result.level);
  boost::json::object kinds;
  for (auto k : kAllKinds) {
    if (result.count(k) > 0) kinds[KindName(k)] = result.count(k);
  }
  o["kinds"] = std::move(kinds);
  boost::json::array spans;
  for (const auto& s : result.spans) {
    spans.push_back(
        boost::json::object{{"kind", KindName(s.kind)}, {"begin", s.begin}, {"end", s.end}});
  }
  o["spans"] = std::move(spans);
  return o;
}

}  // namespace arbiter::signals
