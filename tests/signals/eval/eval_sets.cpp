#include "eval/eval_sets.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "arbiter/common/json.h"
#include "arbiter/signals/duplicates.h"

namespace arbiter::signals::eval {
namespace {

std::optional<std::string> ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(gen_() % n); }
  bool Chance(double p) { return static_cast<double>(gen_() % 1000000) < p * 1000000.0; }
  char Digit() { return static_cast<char>('0' + Below(10)); }
  std::string Digits(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += Digit();
    return s;
  }
  std::string From(std::string_view alphabet, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += alphabet[Below(alphabet.size())];
    return s;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  std::mt19937_64 gen_;
};

constexpr std::string_view kBase62 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// ---- Generators of sensitive values (each returns the value and a context phrase around it) ----

struct Injection {
  std::string before;
  std::string value;
  std::string after;
};

std::string LuhnComplete(std::string partial) {
  // Appends the check digit that makes `partial` Luhn-valid.
  for (char c = '0'; c <= '9'; ++c) {
    std::string s = partial + c;
    int sum = 0;
    bool twice = false;
    for (size_t i = s.size(); i-- > 0;) {
      int d = s[i] - '0';
      if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
      twice = !twice;
    }
    if (sum % 10 == 0) return s;
  }
  return partial;
}

std::string IbanWithCheck(const std::string& country, const std::string& bban, bool valid) {
  std::string rearranged = bban + country + "00";
  std::uint32_t rem = 0;
  for (char c : rearranged) {
    if (c >= '0' && c <= '9') {
      rem = (rem * 10 + static_cast<std::uint32_t>(c - '0')) % 97;
    } else {
      rem = (rem * 100 + static_cast<std::uint32_t>(c - 'A' + 10)) % 97;
    }
  }
  std::uint32_t check = 98 - rem;
  if (!valid) check = check == 97 ? 96 : check + 1;
  std::string cd = (check < 10 ? "0" : "") + std::to_string(check);
  return country + cd + bban;
}

std::string Grouped(const std::string& s, size_t every, char sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && i % every == 0) out += sep;
    out += s[i];
  }
  return out;
}

Injection MakeEmail(Rng& r) {
  static const std::vector<std::string> first = {"ana", "jürgen", "li.wei", "maria", "o.brien",
                                                 "sam", "priya",  "kenji",  "zoë",   "fatima"};
  static const std::vector<std::string> domains = {
      "example.com", "mail.de",    "correo.es",   "empresa.com.br",
      "firma.ch",    "exemple.fr", "uni-bonn.de", "sub.example.co.uk"};
  static const std::vector<std::string> ctx = {
      "Contact me at ", "my e-mail: ", "E-Mail: ", "correo ", "reply to ", "adresse : "};
  std::string local = r.Pick(first);
  if (r.Chance(0.5)) local += r.Digits(1 + r.Below(3));
  if (r.Chance(0.2)) local += "+support";
  return {r.Pick(ctx), local + "@" + r.Pick(domains), r.Chance(0.5) ? "." : ""};
}

Injection MakePhone(Rng& r) {
  auto area = [&] { return std::string(1, static_cast<char>('2' + r.Below(8))) + r.Digits(2); };
  std::string v;
  switch (r.Below(12)) {
    case 0: v = "+1 " + area() + " " + area() + " " + r.Digits(4); break;
    case 1: v = "+1-" + area() + "-" + area() + "-" + r.Digits(4); break;
    case 2: v = "(" + area() + ") " + area() + "-" + r.Digits(4); break;
    case 3: v = area() + "-" + area() + "-" + r.Digits(4); break;
    case 4: v = "+44 20 " + r.Digits(4) + " " + r.Digits(4); break;
    case 5: v = "+49 30 " + r.Digits(8); break;
    case 6:
      v = "+33 " + std::string(1, r.Digit()) + " " + r.Digits(2) + " " + r.Digits(2) + " " +
          r.Digits(2) + " " + r.Digits(2);
      break;
    case 7: v = "+81 3-" + r.Digits(4) + "-" + r.Digits(4); break;
    case 8: v = "+34 6" + r.Digits(2) + " " + r.Digits(3) + " " + r.Digits(3); break;
    case 9: v = "030 " + r.Digits(8); break;
    case 10: v = "+55 11 9" + r.Digits(4) + "-" + r.Digits(4); break;
    default: v = "+91 9" + r.Digits(4) + " " + r.Digits(5); break;
  }
  static const std::vector<std::string> ctx = {
      "call me on ", "Tel. ", "phone ", "teléfono ", "Telefon: ", "my number is ", ""};
  return {r.Pick(ctx), v, r.Chance(0.3) ? "." : ""};
}

Injection MakeCard(Rng& r) {
  std::string partial;
  size_t len = 16;
  switch (r.Below(4)) {
    case 0: partial = "4" + r.Digits(14); break;  // Visa 16
    case 1:
      partial = "5" + std::string(1, static_cast<char>('1' + r.Below(5))) + r.Digits(13);
      break;  // Mastercard
    case 2:
      partial = (r.Chance(0.5) ? "34" : "37") + r.Digits(12);
      len = 15;
      break;                                          // Amex
    default: partial = "6011" + r.Digits(11); break;  // Discover
  }
  std::string card = LuhnComplete(partial);
  std::string v = card;
  const size_t f = r.Below(3);
  if (f == 1 && len == 16) v = Grouped(card, 4, ' ');
  if (f == 2 && len == 16) v = Grouped(card, 4, '-');
  if (f >= 1 && len == 15) v = card.substr(0, 4) + " " + card.substr(4, 6) + " " + card.substr(10);
  static const std::vector<std::string> ctx = {"card number ", "Karte ", "tarjeta ",
                                               "charged to ",  "CC: ",   "carte "};
  return {r.Pick(ctx), v, r.Chance(0.4) ? " exp 09/27" : ""};
}

Injection MakeIban(Rng& r, bool valid = true) {
  std::string iban;
  switch (r.Below(6)) {
    case 0: iban = IbanWithCheck("DE", r.Digits(18), valid); break;
    case 1: iban = IbanWithCheck("GB", "WEST" + r.Digits(14), valid); break;
    case 2: iban = IbanWithCheck("FR", r.Digits(23), valid); break;
    case 3: iban = IbanWithCheck("ES", r.Digits(20), valid); break;
    case 4: iban = IbanWithCheck("NL", "ABNA" + r.Digits(10), valid); break;
    default: iban = IbanWithCheck("CH", r.Digits(17), valid); break;
  }
  static const std::vector<std::string> ctx = {"IBAN ", "IBAN: ", "account ", "cuenta ", "Konto "};
  return {r.Pick(ctx), r.Chance(0.5) ? Grouped(iban, 4, ' ') : iban, r.Chance(0.3) ? "." : ""};
}

Injection MakeSsn(Rng& r) {
  size_t area = 1 + r.Below(899);
  if (area == 666) area = 667;
  std::string a = std::to_string(area);
  a = std::string(3 - a.size(), '0') + a;
  std::string g = std::to_string(1 + r.Below(99));
  g = std::string(2 - g.size(), '0') + g;
  std::string s = std::to_string(1 + r.Below(9999));
  s = std::string(4 - s.size(), '0') + s;
  static const std::vector<std::string> ctx = {"SSN ", "social security number ", "SSN: "};
  return {r.Pick(ctx), a + "-" + g + "-" + s, ""};
}

Injection MakeIp(Rng& r) {
  std::string v;
  const size_t f = r.Below(4);
  if (f <= 1) {
    v = std::to_string(1 + r.Below(223)) + "." + std::to_string(r.Below(256)) + "." +
        std::to_string(r.Below(256)) + "." + std::to_string(1 + r.Below(254));
  } else if (f == 2) {
    v = "2001:db8:" + r.From("0123456789abcdef", 4) + "::" + r.From("123456789abcdef", 3);
  } else {
    for (int i = 0; i < 8; ++i) v += (i ? ":" : "") + r.From("0123456789abcdef", 4);
  }
  static const std::vector<std::string> ctx = {"from IP ", "server ", "address ",
                                               "IP: ", "Adresse "};
  return {r.Pick(ctx), v, r.Chance(0.3) ? "." : ""};
}

Injection MakeSecret(Rng& r) {
  std::string v;
  std::string before;
  switch (r.Below(7)) {
    case 0:
      v = "AKIA" + r.From("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
      before = "key ";
      break;
    case 1:
      v = "ghp_" + r.From(kBase62, 36);
      before = "token ";
      break;
    case 2:
      v = "sk_live_" + r.From(kBase62, 24);
      before = "stripe key ";
      break;
    case 3:
      v = "xoxb-" + r.Digits(11) + "-" + r.Digits(12) + "-" + r.From(kBase62, 24);
      before = "slack ";
      break;
    case 4:
      v = "eyJhbGciOiJIUzI1NiJ9.eyJ" + r.From(kBase64Url, 30) + "." + r.From(kBase64Url, 43);
      before = "Authorization: Bearer ";
      break;
    case 5:
      v = r.From(kBase62, 32);
      before = "api key: ";
      break;
    default:
      v = r.From("0123456789abcdef", 40);
      before = "token=";
      break;
  }
  return {before, v, r.Chance(0.3) ? " (please rotate)" : ""};
}

Injection MakePassword(Rng& r) {
  static const std::vector<std::string> ctx = {
      "password: ", "my password is ", "Passwort: ", "contraseña: ", "mot de passe : ", "senha: ",
      "pwd=",       "пароль: ",        "Password = "};
  std::string v = r.From("ABCDEFGHJKLMNPQRSTUVWXYZ", 1) + r.From("abcdefghijkmnopqrstuvwxyz", 5) +
                  r.Digits(2 + r.Below(3));
  if (r.Chance(0.5)) v += r.From("!#$%&*?", 1);
  return {r.Pick(ctx), v, r.Chance(0.3) ? " thanks" : ""};
}

// Text that must not be reported: near-misses of every kind.
std::string MakeHardNegative(Rng& r) {
  switch (r.Below(14)) {
    case 0: {  // Luhn-failing 16-digit order number with a Visa prefix
      std::string c = LuhnComplete("4" + r.Digits(14));
      c.back() = static_cast<char>('0' + (c.back() - '0' + 1) % 10);
      return "order number " + c;
    }
    case 1:
      return "on " + std::to_string(2019 + r.Below(6)) + "-0" + std::to_string(1 + r.Below(9)) +
             "-1" + r.Digits(1) + " at 1" + r.Digits(1) + ":3" + r.Digits(1);
    case 2: return "version 10.0." + std::to_string(19041 + r.Below(900)) + "." + r.Digits(3);
    case 3: return "total 1.2" + r.Digits(2) + "." + r.Digits(3) + ",00 EUR";
    case 4: return "IBAN " + MakeIban(r, false).value;  // wrong check digits
    case 5: return "ref 000-" + r.Digits(2) + "-" + r.Digits(4);
    case 6: return "commit " + r.From("0123456789abcdef", 40);
    case 7: return "invoice 0000" + r.Digits(7);
    case 8: return "the password is incorrect and I forgot my password";
    case 9: return "ticket INC" + r.Digits(7) + " on MicrosoftSurfacePro7";
    case 10: return "at 10:" + r.Digits(1) + "5:0" + r.Digits(1) + " on std::vector";
    case 11: return "serial SN-" + r.Digits(4) + "-" + r.Digits(4) + "-X";
    case 12: return "purchase " + r.Digits(12 + r.Below(4));
    default: return "v" + r.Digits(1) + "." + r.Digits(1) + "." + r.Digits(2) + " build 2024.1";
  }
}

Injection Make(Kind k, Rng& r) {
  switch (k) {
    case Kind::kEmail: return MakeEmail(r);
    case Kind::kPhone: return MakePhone(r);
    case Kind::kCard: return MakeCard(r);
    case Kind::kIban: return MakeIban(r);
    case Kind::kSsn: return MakeSsn(r);
    case Kind::kIp: return MakeIp(r);
    case Kind::kSecret: return MakeSecret(r);
    case Kind::kPassword: return MakePassword(r);
  }
  return {};
}

// Inserts `phrase` at a whitespace boundary outside earlier insertions and labelled spans;
// returns the offset where it starts. `taken` holds the inserted ranges.
size_t InsertAtBoundary(LabelledText& t, const std::string& phrase, Rng& r,
                        std::vector<std::pair<size_t, size_t>>& taken) {
  auto inside = [&](size_t p) {
    for (const auto& [b, e] : taken) {
      if (p > b && p < e) return true;
    }
    for (const auto& s : t.spans) {
      if (p > s.begin && p < s.end) return true;
    }
    return false;
  };
  std::vector<size_t> points = {t.text.size()};
  for (size_t i = 0; i < t.text.size(); ++i) {
    if ((t.text[i] == ' ' || t.text[i] == '\n') && !inside(i + 1)) points.push_back(i + 1);
  }
  size_t at = points[r.Below(points.size())];
  if (at == t.text.size() && at > 0 && t.text.back() != ' ' && t.text.back() != '\n') {
    t.text += ' ';
    ++at;
  }
  const std::string insert = phrase + " ";
  t.text.insert(at, insert);
  for (auto& s : t.spans) {
    if (s.begin >= at) {
      s.begin += insert.size();
      s.end += insert.size();
    }
  }
  for (auto& [b, e] : taken) {
    if (b >= at) {
      b += insert.size();
      e += insert.size();
    }
  }
  taken.push_back({at, at + insert.size()});
  return at;
}

// Labels the natural e-mail addresses in a text (e.g. "<name@example.com>" in the tickets): a
// local part of [A-Za-z0-9._-] and a dotted domain with an alphabetic top-level label.
void LabelNaturalEmails(LabelledText& t) {
  const std::string& s = t.text;
  auto local = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '+';
  };
  for (size_t p = s.find('@'); p != std::string::npos; p = s.find('@', p + 1)) {
    size_t b = p;
    while (b > 0 && local(s[b - 1])) --b;
    size_t e = p + 1;
    while (e < s.size() &&
           (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '.' || s[e] == '-')) {
      ++e;
    }
    while (e > p + 1 && s[e - 1] == '.') --e;
    const size_t dot = s.rfind('.', e);
    if (b == p || dot == std::string::npos || dot <= p + 1 || e - dot < 3) continue;
    bool known = false;
    for (const auto& sp : t.spans) known = known || (sp.begin < e && b < sp.end);
    if (!known) t.spans.push_back({Kind::kEmail, b, e});
  }
}

void LabelLiteral(LabelledText& t, const std::string& value, Kind kind) {
  if (value.empty()) return;
  for (size_t p = t.text.find(value); p != std::string::npos; p = t.text.find(value, p + 1)) {
    t.spans.push_back({kind, p, p + value.size()});
  }
}

}  // namespace

std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

struct Ticket {
  std::string subject, body, type, queue, language;
};

std::optional<std::vector<Ticket>> LoadTobi(const std::filesystem::path& tickets) {
  auto csv = ReadAll(tickets / "tobi_bueck_tickets_multilang3_4k_head1167.csv");
  if (!csv) return std::nullopt;
  auto rows = ParseCsv(*csv);
  std::vector<Ticket> out;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() < 7) continue;
    out.push_back({rows[i][0], rows[i][1], rows[i][3], rows[i][4], rows[i][6]});
  }
  return out;
}

}  // namespace

std::optional<std::vector<LabelledText>> BuildSensitivitySet(const std::filesystem::path& tickets,
                                                             std::uint64_t seed) {
  auto tobi = LoadTobi(tickets);
  auto bitext = ReadAll(tickets / "bitext_customer_support_sample_337b968.csv");
  auto abcd = ReadAll(tickets / "abcd" / "abcd_sample.json");
  if (!tobi || !bitext || !abcd) return std::nullopt;

  std::vector<LabelledText> set;
  for (const auto& t : *tobi) set.push_back({"tobi", t.subject + "\n\n" + t.body, {}});
  const auto rows = ParseCsv(*bitext);
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() < 11) continue;
    set.push_back({"bitext", rows[i][2], {}});
    if (i % 3 == 0) set.push_back({"bitext", rows[i][10], {}});
  }
  auto json = ParseJson(*abcd);
  if (!json || !json->is_array()) return std::nullopt;
  for (const auto& convo : json->get_array()) {
    LabelledText t{"abcd", "", {}};
    const auto& o = convo.as_object();
    for (const auto& turn : o.at("original").as_array()) {
      const auto& pair = turn.as_array();
      t.text += std::string(pair[0].as_string()) + ": " + std::string(pair[1].as_string()) + "\n";
    }
    const auto& personal = o.at("scenario").at("personal").as_object();
    // The conversations' own fictional personal data are labelled where they occur.
    for (auto [field, kind] :
         {std::pair{"email", Kind::kEmail}, std::pair{"phone", Kind::kPhone}}) {
      if (const auto* v = personal.if_contains(field); v != nullptr && v->is_string()) {
        LabelLiteral(t, std::string(v->get_string()), kind);
      }
    }
    set.push_back(std::move(t));
  }
  for (auto& t : set) LabelNaturalEmails(t);

  Rng r(seed);
  for (auto& t : set) {
    std::vector<std::pair<size_t, size_t>> taken;
    // About two thirds of texts get one to three sensitive values; a third get a near-miss.
    if (r.Chance(0.66)) {
      const size_t n = 1 + r.Below(3);
      for (size_t i = 0; i < n; ++i) {
        const Kind kind = kAllKinds[r.Below(kKindCount)];
        const Injection inj = Make(kind, r);
        const size_t at = InsertAtBoundary(t, inj.before + inj.value + inj.after, r, taken);
        t.spans.push_back(
            {kind, at + inj.before.size(), at + inj.before.size() + inj.value.size()});
      }
    }
    if (r.Chance(0.33)) InsertAtBoundary(t, MakeHardNegative(r), r, taken);
    std::sort(t.spans.begin(), t.spans.end(),
              [](const LabelledSpan& a, const LabelledSpan& b) { return a.begin < b.begin; });
  }
  return set;
}

std::array<Score, kKindCount> ScoreSensitivity(const std::vector<LabelledText>& set,
                                               std::vector<std::string>* mistakes) {
  std::array<Score, kKindCount> scores{};
  auto note = [&](const std::string& what, const LabelledText& t, size_t b, size_t e) {
    if (mistakes == nullptr || mistakes->size() >= 40) return;
    const size_t from = b > 30 ? b - 30 : 0;
    mistakes->push_back(what + " [" + t.origin + "] `" + t.text.substr(b, e - b) + "` in …" +
                        t.text.substr(from, std::min(t.text.size(), e + 30) - from) + "…");
  };
  for (const auto& t : set) {
    const ScanResult r = ScanText(t.text);
    std::vector<bool> used(t.spans.size(), false);
    for (const auto& p : r.spans) {
      bool hit = false;
      for (size_t i = 0; i < t.spans.size(); ++i) {
        const auto& g = t.spans[i];
        if (!used[i] && g.kind == p.kind && p.begin < g.end && g.begin < p.end) {
          used[i] = true;
          hit = true;
          break;
        }
      }
      auto& s = scores[static_cast<size_t>(p.kind)];
      if (hit) {
        ++s.tp;
      } else {
        ++s.fp;
        note("false " + std::string(KindName(p.kind)), t, p.begin, p.end);
      }
    }
    for (size_t i = 0; i < t.spans.size(); ++i) {
      if (used[i]) continue;
      ++scores[static_cast<size_t>(t.spans[i].kind)].fn;
      note("missed " + std::string(KindName(t.spans[i].kind)), t, t.spans[i].begin, t.spans[i].end);
    }
  }
  return scores;
}

// ---- Duplicates ---------------------------------------------------------------------------------

namespace {

std::vector<std::string> Sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    cur += text[i];
    const bool end = (text[i] == '.' || text[i] == '?' || text[i] == '!' || text[i] == '\n') &&
                     (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (end) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
    out += p;
  }
  return out;
}

// Replaces the greeting (first line or first sentence) and the sign-off.
std::string Regreet(const std::string& text, Rng& r) {
  static const std::vector<std::string> greetings = {"Hello support team,",
                                                     "Hi there,",
                                                     "Good morning,",
                                                     "Hallo zusammen,",
                                                     "Hola,",
                                                     "Bonjour,",
                                                     "Olá equipe,",
                                                     "To whom it may concern,"};
  static const std::vector<std::string> closings = {"Thanks, Alex", "Best regards, Sam", "Cheers",
                                                    "Danke", "Gracias"};
  auto s = Sentences(text);
  // Drop the old greeting only when there is one (a short first line or clause).
  if (!s.empty() && s[0].size() < 60 &&
      (s[0].back() == '\n' || s[0].find(',') != std::string::npos)) {
    s.erase(s.begin());
  }
  if (s.size() > 2 && s.back().size() < 40) s.pop_back();
  return r.Pick(greetings) + "\n" + Join(s) + "\n" + r.Pick(closings);
}

// Light edits: a few typos, a dropped word, a changed word, extra punctuation.
std::string Edit(const std::string& text, Rng& r) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (c == ' ') {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  words.push_back(cur);
  const size_t edits = std::max<size_t>(1, words.size() / 25);
  for (size_t i = 0; i < edits && words.size() > 3; ++i) {
    const size_t w = r.Below(words.size());
    switch (r.Below(4)) {
      case 0:
        if (words[w].size() > 3) std::swap(words[w][1], words[w][2]);  // typo
        break;
      case 1: words.erase(words.begin() + static_cast<std::ptrdiff_t>(w)); break;
      case 2: words[w] = "really " + words[w]; break;
      default: words[w] += "!"; break;
    }
  }
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
  return out;
}

std::string Reorder(const std::string& text, Rng& r) {
  auto s = Sentences(text);
  if (s.size() < 3) return Edit(text, r);
  // Move one sentence elsewhere and swap another pair.
  const size_t from = r.Below(s.size());
  std::string moved = s[from];
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(from));
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(r.Below(s.size() + 1)), moved);
  const size_t a = r.Below(s.size());
  std::swap(s[a], s[(a + 1) % s.size()]);
  return Join(s);
}

std::string Resend(const std::string& text, Rng& r) {
  static const std::vector<std::string> prefixes = {
      "We are seeing the same problem:", "Same issue here.", "Also affected:",
      "Wir haben dasselbe Problem:",     "Mismo problema:",  "Nous avons le même problème :"};
  static const std::vector<std::string> names = {"Kim", "Ravi", "Ines", "Tomás", "Olga"};
  return r.Pick(prefixes) + "\n" + Edit(Regreet(text, r), r) + "\n-- " + r.Pick(names) +
         ", customer " + r.Digits(6);
}

// Bitext utterances are short (one sentence), English and templated, many of one intent.
// Utterances equal up to case and spacing are duplicates (the dataset's own exact duplicates: the
// first copy is open, the rest are queries). Of the distinct ones, half are open cases and half
// are unscored paraphrase queries (DedupeQuery::scored).
void AddBitextDuplicates(const std::filesystem::path& tickets, std::uint64_t seed, DedupeSet* set) {
  auto csv = ReadAll(tickets / "bitext_customer_support_sample_337b968.csv");
  if (!csv) return;
  const auto rows = ParseCsv(*csv);
  auto normalise = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
      if (space) {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else {
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  };
  std::map<std::string, std::string> first_id;
  std::vector<size_t> originals;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() < 4) continue;
    auto [it, inserted] = first_id.emplace(normalise(rows[i][2]), "b" + std::to_string(i));
    if (inserted) {
      originals.push_back(i);
    } else {
      set->queries.push_back({rows[i][2], it->second, "exact-bitext"});
    }
  }
  // The first copies of duplicated utterances must be open for their queries to find them.
  std::set<std::string> must_open;
  for (const auto& q : set->queries) {
    if (q.variant == "exact-bitext") must_open.insert(q.expected);
  }
  std::vector<size_t> shuffled = originals;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed ^ 0xb17e47));
  std::set<std::string> open_intents;
  std::vector<size_t> negatives;
  for (size_t k = 0; k < shuffled.size(); ++k) {
    const size_t i = shuffled[k];
    const std::string id = "b" + std::to_string(i);
    if (k % 2 == 0 || must_open.count(id) != 0) {
      set->open_cases.push_back({id, rows[i][2]});
      open_intents.insert(rows[i][3]);
    } else {
      negatives.push_back(i);
    }
  }
  for (size_t i : negatives) {
    if (open_intents.count(rows[i][3]) == 0) continue;
    set->queries.push_back({rows[i][2], "", "paraphrase-bitext", /*scored=*/false});
  }
}

}  // namespace

std::optional<DedupeSet> BuildDedupeSet(const std::filesystem::path& tickets, std::uint64_t seed) {
  auto tobi = LoadTobi(tickets);
  if (!tobi) return std::nullopt;
  Rng r(seed);
  DedupeSet set;
  // Exact duplicates within the CSV: the first copy is open, the others are queries.
  std::map<std::string, std::string> first_id;
  std::vector<size_t> originals;
  for (size_t i = 0; i < tobi->size(); ++i) {
    const std::string text = (*tobi)[i].subject + "\n\n" + (*tobi)[i].body;
    auto [it, inserted] = first_id.emplace(text, "t" + std::to_string(i));
    if (!inserted) {
      set.queries.push_back({text, it->second, "exact-csv"});
    } else {
      originals.push_back(i);
    }
  }
  // Half of the distinct tickets are open cases; the other half are negatives (distinct tickets,
  // sharing queue, type and language with open ones).
  std::vector<size_t> shuffled = originals;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(seed));
  std::map<std::string, int> open_groups;
  auto group_of = [&](size_t i) {
    const auto& t = (*tobi)[i];
    return t.queue + "|" + t.type + "|" + t.language;
  };
  std::vector<size_t> open;
  for (size_t k = 0; k < shuffled.size(); ++k) {
    const size_t i = shuffled[k];
    if (k % 2 == 0) {
      open.push_back(i);
      ++open_groups[group_of(i)];
    }
  }
  for (size_t i : open) {
    const std::string text = (*tobi)[i].subject + "\n\n" + (*tobi)[i].body;
    set.open_cases.push_back({"t" + std::to_string(i), text});
  }
  for (size_t k = 1; k < shuffled.size(); k += 2) {
    const size_t i = shuffled[k];
    if (open_groups.count(group_of(i)) == 0) continue;
    set.queries.push_back({(*tobi)[i].subject + "\n\n" + (*tobi)[i].body, "", "negative"});
  }
  AddBitextDuplicates(tickets, seed, &set);
  // Edited copies of open cases.
  for (size_t n = 0; n < open.size(); ++n) {
    const size_t i = open[n];
    const std::string id = "t" + std::to_string(i);
    const std::string& subject = (*tobi)[i].subject;
    const std::string& body = (*tobi)[i].body;
    switch (n % 4) {
      case 0: set.queries.push_back({subject + "\n\n" + Regreet(body, r), id, "regreeted"}); break;
      case 1: set.queries.push_back({subject + "\n\n" + Edit(body, r), id, "edited"}); break;
      case 2: set.queries.push_back({subject + "\n\n" + Reorder(body, r), id, "reordered"}); break;
      default: set.queries.push_back({"Re: " + subject + "\n\n" + Resend(body, r), id, "resent"});
    }
  }
  return set;
}

DedupeResult ScoreDedupe(const DedupeSet& set, double threshold,
                         std::vector<std::string>* mistakes) {
  DuplicateIndexOptions options;
  options.threshold = threshold;
  DuplicateIndex index(options);
  std::map<std::string, std::string> open_text;
  for (const auto& [id, text] : set.open_cases) {
    (void)index.Add(id, text);
    if (mistakes != nullptr) open_text[id] = text;
  }
  auto note = [&](const DedupeQuery& q, const DuplicateMatch& m) {
    if (mistakes == nullptr || mistakes->size() >= 40) return;
    auto shorten = [](const std::string& t) {
      std::string s = t.substr(0, 100);
      for (char& c : s) {
        if (c == '\n') c = ' ';
      }
      return s;
    };
    mistakes->push_back(
        q.variant + " (similarity " + std::to_string(m.similarity) + "): `" + shorten(q.text) +
        "` -> `" + (m.is_duplicate() ? shorten(open_text[m.duplicate_of]) : "") + "`, expected `" +
        (q.expected.empty() ? "" : shorten(open_text[q.expected])) + "`");
  };
  DedupeResult result;
  std::map<std::string, Score> by_variant;
  for (const auto& q : set.queries) {
    const DuplicateMatch m = index.Query(q.text);
    if (!q.scored) {
      ++result.paraphrases;
      result.paraphrases_matched += m.is_duplicate();
      continue;
    }
    Score& v = by_variant[q.variant];
    if (q.expected.empty()) {
      ++result.negatives;
      if (m.is_duplicate()) {
        ++result.false_duplicates;
        ++result.overall.fp;
        note(q, m);
      }
      continue;
    }
    if (m.duplicate_of == q.expected) {
      ++result.overall.tp;
      ++v.tp;
    } else {
      ++result.overall.fn;
      ++v.fn;
      if (m.is_duplicate()) ++result.overall.fp;  // reported the wrong case
      note(q, m);
    }
  }
  for (auto& [name, s] : by_variant) result.by_variant.push_back({name, s});
  return result;
}

}  // namespace arbiter::signals::eval
