#include "arbiter/cedar/internal/lexer.h"

namespace arbiter::cedar::internal {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, std::uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::vector<Token> Tokenize(std::string_view src, std::vector<CommentSpan>* comments) {
  std::vector<Token> toks;
  std::uint32_t line = 1;
  size_t line_start = 0;
  size_t i = 0;
  auto make = [&](TokKind k, size_t start, size_t len) {
    Token t;
    t.kind = k;
    t.text = src.substr(start, len);
    t.line = line;
    t.column = static_cast<std::uint32_t>(start - line_start + 1);
    t.offset = static_cast<std::uint32_t>(start);
    return t;
  };
  while (true) {
    // Skip whitespace and comments.
    while (i < src.size()) {
      char c = src[i];
      if (c == '\n') {
        ++line;
        line_start = ++i;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++i;
      } else if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
        size_t begin = i;
        while (i < src.size() && src[i] != '\n') ++i;
        if (comments) {
          comments->push_back({static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(i)});
        }
      } else {
        break;
      }
    }
    if (i >= src.size()) {
      toks.push_back(make(TokKind::kEof, i, 0));
      return toks;
    }
    char c = src[i];
    size_t start = i;
    if (IsIdentStart(c)) {
      while (i < src.size() && IsIdentChar(src[i])) ++i;
      toks.push_back(make(TokKind::kIdent, start, i - start));
    } else if (c >= '0' && c <= '9') {
      while (i < src.size() && src[i] >= '0' && src[i] <= '9') ++i;
      toks.push_back(make(TokKind::kInt, start, i - start));
    } else if (c == '"') {
      ++i;
      std::uint32_t sline = line;
      size_t sline_start = line_start;
      bool closed = false;
      while (i < src.size()) {
        if (src[i] == '\\') {
          i += 2;
          continue;
        }
        if (src[i] == '"') {
          closed = true;
          break;
        }
        if (src[i] == '\n') {
          ++line;
          line_start = i + 1;
        }
        ++i;
      }
      if (!closed || i > src.size()) {
        Token t;
        t.kind = TokKind::kError;
        t.text = "unterminated string literal";
        t.line = sline;
        t.column = static_cast<std::uint32_t>(start - sline_start + 1);
        t.offset = static_cast<std::uint32_t>(start);
        toks.push_back(t);
        return toks;
      }
      Token t;
      t.kind = TokKind::kStr;
      t.text = src.substr(start + 1, i - start - 1);
      t.line = sline;
      t.column = static_cast<std::uint32_t>(start - sline_start + 1);
      t.offset = static_cast<std::uint32_t>(start);
      toks.push_back(t);
      ++i;
    } else {
      static const std::string_view kTwo[] = {"::", "==", "!=", "<=", ">=", "&&", "||"};
      size_t len = 0;
      for (std::string_view two : kTwo) {
        if (src.substr(i, 2) == two) {
          len = 2;
          break;
        }
      }
      if (len == 0) {
        static const std::string_view kOne = "()[]{},;:.@?<>!+-*/%=&|";
        if (kOne.find(c) != std::string_view::npos) len = 1;
      }
      if (len == 0) {
        Token t = make(TokKind::kError, start, 1);
        t.text = "unexpected character";
        toks.push_back(t);
        return toks;
      }
      i += len;
      toks.push_back(make(TokKind::kPunct, start, len));
    }
  }
}

Status OneLine(Status s) {
  if (s.ok()) return s;
  const std::string& m = s.message();
  bool clean = true;
  for (unsigned char c : m) clean = clean && c >= 0x20 && c != 0x7f;
  if (clean) return s;
  std::string out;
  for (unsigned char c : m) {
    if (c < 0x20 || c == 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return Status(s.code(), out);
}

bool Unescape(std::string_view raw, bool pattern, std::string* out, std::vector<PatternPart>* parts,
              std::string* error) {
  std::string cur;
  auto flush = [&] {
    if (pattern) {
      if (!cur.empty()) {
        if (!parts->empty() && !parts->back().wildcard) {
          parts->back().text += cur;
        } else {
          parts->push_back(PatternPart{false, cur});
        }
      }
      cur.clear();
    }
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (pattern && c == '*') {
      flush();
      if (parts->empty() || !parts->back().wildcard) parts->push_back(PatternPart{true, ""});
      continue;
    }
    if (c != '\\') {
      cur.push_back(c);
      continue;
    }
    if (i + 1 >= raw.size()) {
      *error = "invalid escape at end of string";
      return false;
    }
    char e = raw[++i];
    switch (e) {
      case 'n': cur.push_back('\n'); break;
      case 'r': cur.push_back('\r'); break;
      case 't': cur.push_back('\t'); break;
      case '0': cur.push_back('\0'); break;
      case '\\': cur.push_back('\\'); break;
      case '\'': cur.push_back('\''); break;
      case '"': cur.push_back('"'); break;
      case '*':
        if (!pattern) {
          *error = "invalid escape `\\*`";
          return false;
        }
        cur.push_back('*');
        break;
      case 'x': {
        if (i + 2 >= raw.size() + 0 && i + 2 > raw.size() - 1 + 1) {
          *error = "invalid `\\x` escape";
          return false;
        }
        int h = i + 1 < raw.size() ? HexVal(raw[i + 1]) : -1;
        int l = i + 2 < raw.size() ? HexVal(raw[i + 2]) : -1;
        if (h < 0 || l < 0 || h > 7) {
          *error = "invalid `\\x` escape";
          return false;
        }
        cur.push_back(static_cast<char>(h * 16 + l));
        i += 2;
        break;
      }
      case 'u': {
        if (i + 1 >= raw.size() || raw[i + 1] != '{') {
          *error = "invalid `\\u` escape";
          return false;
        }
        size_t j = i + 2;
        std::uint32_t cp = 0;
        size_t digits = 0;
        while (j < raw.size() && raw[j] != '}') {
          int v = HexVal(raw[j]);
          if (v < 0 || digits >= 6) {
            *error = "invalid `\\u` escape";
            return false;
          }
          cp = cp * 16 + static_cast<std::uint32_t>(v);
          ++digits;
          ++j;
        }
        if (j >= raw.size() || digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          *error = "invalid `\\u` escape";
          return false;
        }
        AppendUtf8(&cur, cp);
        i = j;
        break;
      }
      default: *error = std::string("invalid escape `\\") + e + "`"; return false;
    }
  }
  if (pattern) {
    flush();
  } else {
    *out = std::move(cur);
  }
  return true;
}

bool TokenCursor::Start(std::string_view src) {
  toks_ = Tokenize(src);
  pos_ = 0;
  if (toks_.back().kind != TokKind::kError) return true;
  Fail(toks_.back(), std::string(toks_.back().text));
  return false;
}

std::string TokenCursor::Describe(const Token& t) {
  switch (t.kind) {
    case TokKind::kEof: return "end of input";
    case TokKind::kStr: return "string literal";
    default: return "`" + std::string(t.text) + "`";
  }
}

void TokenCursor::Fail(const Token& t, const std::string& msg, StatusCode code) {
  if (!error_.ok()) return;
  std::string where = source_name_.empty() ? "" : std::string(source_name_) + ":";
  error_ =
      Status(code, where + std::to_string(t.line) + ":" + std::to_string(t.column) + ": " + msg);
}

bool TokenCursor::Expect(std::string_view p) {
  if (!IsPunct(p)) {
    Fail(Peek(), "expected `" + std::string(p) + "`, found " + Describe(Peek()));
    return false;
  }
  Next();
  return true;
}

bool TokenCursor::ParseList(const std::function<bool()>& item) {
  if (!Expect("[")) return false;
  while (!IsPunct("]")) {
    if (!item()) return false;
    if (IsPunct(",")) {
      Next();
    } else if (!IsPunct("]")) {
      Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
      return false;
    }
  }
  Next();
  return true;
}

bool TokenCursor::ExpectIdent(std::string_view s) {
  if (!IsIdent(s)) {
    Fail(Peek(), "expected `" + std::string(s) + "`, found " + Describe(Peek()));
    return false;
  }
  Next();
  return true;
}

}  // namespace arbiter::cedar::internal
