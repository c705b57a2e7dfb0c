// RFC 5322 messages to Cases, threaded by Message-ID / In-Reply-To / References.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include <boost/json/array.hpp>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/sources/adapters.h"
#include "arbiter/sources/internal/util.h"

namespace arbiter::sources {
namespace {

constexpr std::string_view kSrc = "email";
constexpr size_t kMaxHeaders = 1000;

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parses the header section (unfolding continuation lines); returns the offset of the body.
Result<size_t> ParseHeaders(std::string_view text,
                            std::vector<std::pair<std::string, std::string>>& headers,
                            std::string_view where) {
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    ++line_no;
    pos = next;
    if (line.empty()) return pos;  // end of the header section
    if (line.front() == ' ' || line.front() == '\t') {
      if (headers.empty()) {
        return internal::Malformed(kSrc, std::string(where) + "line " + std::to_string(line_no),
                                   "continuation line before any header field");
      }
      headers.back().second += ' ';
      headers.back().second += Trim(line);
      continue;
    }
    const size_t colon = line.find(':');
    bool name_ok = colon != std::string_view::npos && colon > 0;
    for (size_t i = 0; name_ok && i < colon; ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      name_ok = c > 32 && c < 127;
    }
    if (!name_ok) {
      std::string shown(line.substr(0, 40));
      return internal::Malformed(kSrc, std::string(where) + "line " + std::to_string(line_no),
                                 "not a header field: `" + internal::SanitizeUtf8(shown) + "`");
    }
    if (headers.size() >= kMaxHeaders) {
      return Status::ResourceExhausted("email: more than " + std::to_string(kMaxHeaders) +
                                       " header fields");
    }
    headers.emplace_back(std::string(line.substr(0, colon)),
                         std::string(Trim(line.substr(colon + 1))));
  }
  return text.size();
}

std::string Header(const std::vector<std::pair<std::string, std::string>>& headers,
                   std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (LowerAscii(k) == name) return v;
  }
  return "";
}

// The msg-ids ("<a@b>") in a header value, without brackets.
std::vector<std::string> MessageIds(std::string_view v) {
  std::vector<std::string> ids;
  size_t pos = 0;
  while (true) {
    const size_t lt = v.find('<', pos);
    if (lt == std::string_view::npos) break;
    const size_t gt = v.find('>', lt);
    if (gt == std::string_view::npos) break;
    if (gt > lt + 1) ids.emplace_back(v.substr(lt + 1, gt - lt - 1));
    pos = gt + 1;
  }
  if (ids.empty() && !Trim(v).empty() && Trim(v).find(' ') == std::string_view::npos) {
    ids.emplace_back(Trim(v));  // a bare id without brackets
  }
  return ids;
}

std::string Latin1ToUtf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string ToUtf8(std::string_view bytes, std::string_view charset) {
  const std::string cs = LowerAscii(charset);
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "windows-1252" || cs == "iso-8859-15") {
    return Latin1ToUtf8(bytes);
  }
  return internal::SanitizeUtf8(bytes);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string DecodeQuotedPrintable(std::string_view s, bool header) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (header && c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < s.size() + 0 && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (c == '=' && i + 1 < s.size() && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
      // Soft line break.
      ++i;
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

std::string DecodeBase64Lenient(std::string_view s) {
  std::string compact;
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') compact += c;
  }
  auto decoded = Base64Decode(compact);
  if (!decoded) return std::string(s);  // keep the raw text rather than lose it
  return std::string(AsChars(*decoded));
}

// RFC 2047 encoded words: =?charset?B|Q?text?=
std::string DecodeEncodedWords(std::string_view v) {
  std::string out;
  size_t pos = 0;
  bool last_was_word = false;
  while (pos < v.size()) {
    const size_t start = v.find("=?", pos);
    if (start == std::string_view::npos) {
      out += v.substr(pos);
      break;
    }
    const size_t q1 = v.find('?', start + 2);
    const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('?', q1 + 1);
    const size_t end = q2 == std::string_view::npos ? q2 : v.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += v.substr(pos);
      break;
    }
    std::string_view between = v.substr(pos, start - pos);
    if (!(last_was_word && Trim(between).empty())) out += between;  // spaces between words vanish
    const std::string_view charset = v.substr(start + 2, q1 - start - 2);
    const char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(v[q1 + 1])));
    const std::string_view text = v.substr(q2 + 1, end - q2 - 1);
    const std::string raw =
        enc == 'B' ? DecodeBase64Lenient(text) : DecodeQuotedPrintable(text, true);
    out += ToUtf8(raw, charset);
    pos = end + 2;
    last_was_word = true;
  }
  return internal::SanitizeUtf8(out);
}

// A parameter of a structured header value: charset="utf-8"; boundary=abc
std::string Param(std::string_view value, std::string_view name) {
  const std::string lower = LowerAscii(value);
  const std::string key = std::string(name) + "=";
  size_t pos = lower.find(key);
  while (pos != std::string::npos && pos > 0 && lower[pos - 1] != ';' && lower[pos - 1] != ' ' &&
         lower[pos - 1] != '\t') {
    pos = lower.find(key, pos + 1);
  }
  if (pos == std::string::npos) return "";
  std::string_view rest = value.substr(pos + key.size());
  if (!rest.empty() && rest.front() == '"') {
    rest.remove_prefix(1);
    return std::string(rest.substr(0, rest.find('"')));
  }
  return std::string(Trim(rest.substr(0, rest.find(';'))));
}

std::string DecodeBody(std::string_view body, const std::string& cte, const std::string& charset) {
  const std::string enc = LowerAscii(Trim(cte));
  std::string raw;
  if (enc == "quoted-printable") {
    raw = DecodeQuotedPrintable(body, false);
  } else if (enc == "base64") {
    raw = DecodeBase64Lenient(body);
  } else {
    raw = std::string(body);
  }
  return ToUtf8(raw, charset);
}

// The first text/plain part of a multipart body (one level of nesting is followed).
std::optional<std::string> PlainPart(std::string_view body, const std::string& boundary,
                                     int depth) {
  if (boundary.empty() || depth > 3) return std::nullopt;
  const std::string delim = "--" + boundary;
  size_t pos = body.find(delim);
  while (pos != std::string_view::npos) {
    size_t part_start = body.find('\n', pos);
    if (part_start == std::string_view::npos) return std::nullopt;
    ++part_start;
    if (body.substr(pos + delim.size(), 2) == "--") return std::nullopt;  // closing delimiter
    size_t next = body.find(delim, part_start);
    if (next == std::string_view::npos) next = body.size();
    const std::string_view part = body.substr(part_start, next - part_start);
    std::vector<std::pair<std::string, std::string>> headers;
    auto offset = ParseHeaders(part, headers, "part: ");
    if (offset) {
      const std::string ct = Header(headers, "content-type");
      const std::string type = LowerAscii(Trim(ct.substr(0, ct.find(';'))));
      std::string_view content = part.substr(*offset);
      if (type.empty() || type == "text/plain") {
        return DecodeBody(content, Header(headers, "content-transfer-encoding"),
                          Param(ct, "charset"));
      }
      if (type.starts_with("multipart/")) {
        if (auto inner = PlainPart(content, Param(ct, "boundary"), depth + 1)) return inner;
      }
    }
    pos = next < body.size() ? next : std::string_view::npos;
  }
  return std::nullopt;
}

// "Fri, 21 Nov 1997 09:55:06 -0600" → "1997-11-21T09:55:06-06:00"; "" when it does not parse.
std::string ParseDate(std::string_view v) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  std::vector<std::string> tok;
  std::string cur;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!cur.empty()) tok.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) tok.push_back(cur);
  if (!tok.empty() && !std::isdigit(static_cast<unsigned char>(tok[0][0]))) tok.erase(tok.begin());
  if (tok.size() < 4) return "";
  auto all_digits = [](const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(tok[0]) || tok[0].size() > 2 || !all_digits(tok[2]) || tok[2].size() != 4) {
    return "";
  }
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (LowerAscii(tok[1]).substr(0, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  const std::string& t = tok[3];
  if (month == 0 || t.size() < 5 || t[2] != ':') return "";
  std::string time = t.size() == 5 ? t + ":00" : t.substr(0, 8);
  std::string zone = "Z";
  if (tok.size() >= 5 && tok[4].size() == 5 && (tok[4][0] == '+' || tok[4][0] == '-')) {
    zone =
        tok[4] == "+0000" || tok[4] == "-0000" ? "Z" : tok[4].substr(0, 3) + ":" + tok[4].substr(3);
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s-%02d-%02d", tok[2].c_str(), month, std::stoi(tok[0]));
  return std::string(buf) + "T" + time + zone;
}

void ParseFrom(std::string_view v, std::string& addr, std::string& display) {
  const size_t lt = v.rfind('<');
  const size_t gt = lt == std::string_view::npos ? lt : v.find('>', lt);
  if (lt != std::string_view::npos && gt != std::string_view::npos) {
    addr = std::string(Trim(v.substr(lt + 1, gt - lt - 1)));
    std::string_view name = Trim(v.substr(0, lt));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    display = DecodeEncodedWords(name);
  } else {
    addr = std::string(Trim(v));
  }
}

// Splits an mbox ("From " separator lines) into messages; a plain message is one.
std::vector<std::string_view> SplitMbox(std::string_view text) {
  std::vector<std::string_view> out;
  if (!text.starts_with("From ")) return {text};
  size_t start = 0;
  while (start < text.size()) {
    size_t next = text.find("\nFrom ", start + 1);
    const size_t end = next == std::string_view::npos ? text.size() : next + 1;
    std::string_view msg = text.substr(start, end - start);
    // Drop the "From " separator line itself.
    const size_t nl = msg.find('\n');
    msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
    if (!Trim(msg).empty()) out.push_back(msg);
    start = end;
  }
  return out;
}

Priority PriorityOf(const EmailMessage& m) {
  for (const auto& [k, v] : m.headers) {
    const std::string key = LowerAscii(k);
    const std::string val = LowerAscii(Trim(v));
    if (key == "x-priority" && !val.empty()) {
      if (val[0] == '1') return Priority::kUrgent;
      if (val[0] == '2') return Priority::kHigh;
      if (val[0] == '4' || val[0] == '5') return Priority::kLow;
    }
    if (key == "importance" || key == "priority") {
      if (val == "high" || val == "urgent") return Priority::kHigh;
      if (val == "low" || val == "non-urgent") return Priority::kLow;
    }
  }
  return Priority::kNormal;
}

}  // namespace

Result<EmailMessage> ParseEmail(std::string_view text) {
  EmailMessage m;
  if (text.starts_with("From ")) text = text.substr(std::min(text.size(), text.find('\n') + 1));
  ARBITER_TRY(size_t body_offset, ParseHeaders(text, m.headers, ""));
  if (m.headers.empty()) return internal::Malformed(kSrc, "", "no header fields");
  const std::string from = Header(m.headers, "from");
  if (from.empty()) return internal::Malformed(kSrc, "From", "missing");
  ParseFrom(from, m.from, m.from_display);
  m.from = internal::SanitizeUtf8(m.from);
  if (m.from.find('@') == std::string::npos) {
    return internal::Malformed(kSrc, "From",
                               "`" + internal::SanitizeUtf8(from) + "` has no address");
  }
  auto ids = MessageIds(Header(m.headers, "message-id"));
  if (!ids.empty()) {
    m.message_id = internal::SanitizeUtf8(ids[0]);
  } else {
    // No Message-ID (it is only recommended): derive a stable one from the header section.
    m.message_id =
        HexEncode(AsBytes(std::string_view(
            reinterpret_cast<const char*>(Sha256(text.substr(0, body_offset)).data()), 16))) +
        "@arbiter.invalid";
  }
  auto reply = MessageIds(Header(m.headers, "in-reply-to"));
  if (!reply.empty()) m.in_reply_to = internal::SanitizeUtf8(reply[0]);
  for (auto& r : MessageIds(Header(m.headers, "references"))) {
    m.references.push_back(internal::SanitizeUtf8(r));
  }
  m.subject = DecodeEncodedWords(Header(m.headers, "subject"));
  m.date = ParseDate(Header(m.headers, "date"));
  const std::string ct = Header(m.headers, "content-type");
  const std::string type = LowerAscii(Trim(ct.substr(0, ct.find(';'))));
  const std::string_view body = text.substr(body_offset);
  if (type.starts_with("multipart/")) {
    auto plain = PlainPart(body, Param(ct, "boundary"), 0);
    if (!plain) {
      return internal::Malformed(kSrc, "Content-Type",
                                 "multipart message without a text/plain part");
    }
    m.body = std::move(*plain);
  } else {
    m.body = DecodeBody(body, Header(m.headers, "content-transfer-encoding"), Param(ct, "charset"));
  }
  std::string lf;
  lf.reserve(m.body.size());
  for (size_t i = 0; i < m.body.size(); ++i) {
    if (m.body[i] == '\r' && i + 1 < m.body.size() && m.body[i + 1] == '\n') continue;
    lf += m.body[i];
  }
  m.body = std::move(lf);
  while (!m.body.empty() && (m.body.back() == '\n' || m.body.back() == '\r')) m.body.pop_back();
  for (auto& [k, v] : m.headers) {
    k = internal::SanitizeUtf8(k);
    v = internal::SanitizeUtf8(v);
  }
  return m;
}

std::string ThreadRoot(const EmailMessage& m) {
  if (!m.references.empty()) return m.references.front();
  if (!m.in_reply_to.empty()) return m.in_reply_to;
  return m.message_id;
}

Result<Case> ConvertEmail(std::string_view bytes, const ConvertLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("email: message larger than " +
                                     std::to_string(limits.max_bytes) + " bytes");
  }
  const auto parts = SplitMbox(bytes);
  if (parts.size() > limits.max_email_messages) {
    return Status::ResourceExhausted("email: more than " +
                                     std::to_string(limits.max_email_messages) + " messages");
  }
  std::vector<EmailMessage> msgs;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto m = ParseEmail(parts[i]);
    if (!m) {
      return parts.size() == 1 ? m.error()
                               : m.error().WithContext("message " + std::to_string(i + 1));
    }
    msgs.push_back(std::move(*m));
  }
  if (msgs.empty()) return internal::Malformed(kSrc, "", "empty input");
  const std::string root = ThreadRoot(msgs[0]);
  std::vector<std::string> known = {root, msgs[0].message_id};
  for (size_t i = 1; i < msgs.size(); ++i) {
    bool linked = ThreadRoot(msgs[i]) == root;
    for (const auto& k : known) linked = linked || msgs[i].in_reply_to == k;
    if (!linked) {
      return internal::Malformed(
          kSrc, "message " + std::to_string(i + 1),
          "<" + msgs[i].message_id + "> is not part of the thread of <" + root + ">");
    }
    known.push_back(msgs[i].message_id);
  }
  const EmailMessage& first = msgs[0];
  Case c;
  c.id = root;
  c.source = "email";
  c.channel = "email";
  c.subject = first.subject;
  c.body = first.body;
  ARBITER_RETURN_IF_ERROR(internal::CheckText(kSrc, "Subject", c.subject));
  ARBITER_RETURN_IF_ERROR(internal::CheckText(kSrc, "body", c.body));
  c.customer.id = first.from;
  c.created_at = first.date;
  c.priority = PriorityOf(first);
  boost::json::array ids;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ids.push_back(boost::json::value(msgs[i].message_id));
    if (i == 0) continue;
    ARBITER_RETURN_IF_ERROR(
        internal::CheckText(kSrc, "message " + std::to_string(i + 1) + " body", msgs[i].body));
    c.messages.push_back({msgs[i].from, msgs[i].body, msgs[i].date});
  }
  c.attributes["message_ids"] = std::move(ids);
  c.attributes["thread_id"] = root;
  if (!first.in_reply_to.empty()) c.attributes["in_reply_to"] = first.in_reply_to;
  if (!first.references.empty()) {
    boost::json::array refs;
    for (const auto& r : first.references) refs.push_back(boost::json::value(r));
    c.attributes["references"] = std::move(refs);
  }
  if (!first.from_display.empty()) c.attributes["from_name"] = first.from_display;
  boost::json::object headers;
  for (const auto& [k, v] : first.headers) {
    const std::string key = LowerAscii(k);
    if (key == "from" || key == "subject" || key == "message-id" || key == "in-reply-to" ||
        key == "references" || key == "date") {
      continue;
    }
    headers[key] = v;  // the last one wins for repeated fields
  }
  if (!headers.empty()) c.attributes["headers"] = std::move(headers);
  return c;
}

}  // namespace arbiter::sources
