#include "arbiter/sources/internal/util.h"

#include "arbiter/common/json.h"

namespace arbiter::sources::internal {

Status Malformed(std::string_view source, std::string_view field, std::string_view problem) {
  std::string m(source);
  m += ": ";
  if (!field.empty()) {
    m += field;
    m += ": ";
  }
  m += problem;
  return Status::InvalidArgument(std::move(m));
}

Result<boost::json::value> ParsePayload(std::string_view source, std::string_view bytes,
                                        const ConvertLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted(std::string(source) + ": payload larger than " +
                                     std::to_string(limits.max_bytes) + " bytes");
  }
  JsonLimits jl;
  jl.max_bytes = limits.max_bytes;
  jl.max_depth = limits.max_json_depth;
  auto v = ParseJson(bytes, jl);
  if (!v) return v.error().WithContext(source);
  if (!v->is_object()) {
    return Malformed(source, "", "expected a JSON object, got " + std::string(JsonKindName(*v)));
  }
  return v;
}

Result<std::string> StringOrNumber(std::string_view source, const boost::json::object& o,
                                   std::string_view key, std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  std::string field(where);
  if (!field.empty()) field += ".";
  field += key;
  return Malformed(source, field,
                   "expected a string or an integer, got " + std::string(JsonKindName(*v)));
}

Status CheckText(std::string_view source, std::string_view field, const std::string& text) {
  const CaseLimits limits;
  if (text.size() > limits.max_text_bytes) {
    return Malformed(source, field,
                     "longer than " + std::to_string(limits.max_text_bytes) + " bytes");
  }
  return Status::Ok();
}

void KeepUnknown(const boost::json::object& o, std::initializer_list<std::string_view> consumed,
                 boost::json::object& attributes) {
  for (const auto& kv : o) {
    bool used = false;
    for (auto c : consumed) used = used || kv.key() == c;
    if (!used) attributes[kv.key()] = kv.value();
  }
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      ok = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string HtmlToText(std::string_view html) {
  std::string out;
  bool in_tag = false;
  for (size_t i = 0; i < html.size(); ++i) {
    const char c = html[i];
    if (in_tag) {
      if (c == '>') in_tag = false;
      continue;
    }
    if (c == '<') {
      in_tag = true;
      // Block-level breaks become newlines.
      if (html.substr(i, 3) == "<br" || html.substr(i, 3) == "<p>" || html.substr(i, 4) == "</p>" ||
          html.substr(i, 5) == "</div") {
        if (!out.empty() && out.back() != '\n') out += '\n';
      }
      continue;
    }
    if (c == '&') {
      static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
          {"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
          {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
      bool done = false;
      for (const auto& [name, text] : kEntities) {
        if (html.substr(i, name.size()) == name) {
          out += text;
          i += name.size() - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string NormalizeTimestamp(std::string_view ts) {
  auto digit = [&](size_t i) { return i < ts.size() && ts[i] >= '0' && ts[i] <= '9'; };
  const bool date = ts.size() >= 19 && digit(0) && digit(3) && ts[4] == '-' && ts[7] == '-' &&
                    ts[13] == ':' && ts[16] == ':';
  if (!date) return std::string(ts);
  std::string out(ts);
  if (out[10] == ' ') {
    out[10] = 'T';
    if (out.size() == 19) out += 'Z';
    return out;
  }
  // Offset written without a colon: "+0300".
  if (out.size() >= 5) {
    const size_t k = out.size() - 5;
    if ((out[k] == '+' || out[k] == '-') && digit(k + 1) && digit(k + 4)) out.insert(k + 3, ":");
  }
  return out;
}

}  // namespace arbiter::sources::internal
