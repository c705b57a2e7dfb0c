// A small lexer shared by the policy and schema parsers: identifiers, integer literals, string
// literals (kept raw; see Unescape), punctuation, `//` comments. Tracks line and column.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar::internal {

enum class TokKind : std::uint8_t { kEof, kIdent, kInt, kStr, kPunct, kError };

struct Token {
  TokKind kind = TokKind::kEof;
  std::string_view text;  // identifier, digits, raw string body (no quotes), or punctuation
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  std::uint32_t offset = 0;
};

// A `//` comment's bytes in its source: [begin, end), the newline excluded.
struct CommentSpan {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// Splits all of `src` into tokens (ending with kEof, or kError with `text` describing the problem).
// With `comments`, the comments skipped on the way are appended to it, in order.
std::vector<Token> Tokenize(std::string_view src, std::vector<CommentSpan>* comments = nullptr);

// Decodes a raw string body. With `pattern`, `\*` is a literal star and an unescaped `*` is a
// wildcard (parts are appended to `parts`); otherwise the text goes to `out`. Returns false with
// `error` set on a bad escape.
bool Unescape(std::string_view raw, bool pattern, std::string* out, std::vector<PatternPart>* parts,
              std::string* error);

// The token stream a recursive-descent parser walks, with the first error it reports. Shared by
// the policy and schema parsers so both read tokens and word errors the same way:
// `<source>:<line>:<column>: <message>`, and only the first error is kept.
//
//   class MyParser : private TokenCursor {
//     bool Parse() { if (!Start(src)) return false; return Expect("{"); }
//   };
class TokenCursor {
 protected:
  explicit TokenCursor(std::string_view source_name) : source_name_(source_name) {}

  // Tokenizes `src`; false (with the lexer's error recorded) when it does not lex.
  bool Start(std::string_view src);

  const Token& Peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool IsPunct(std::string_view p, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == TokKind::kPunct && t.text == p;
  }
  bool IsIdent(std::string_view s, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == TokKind::kIdent && t.text == s;
  }
  // How a token reads in an error message: `text`, "string literal" or "end of input".
  static std::string Describe(const Token& t);
  // Records `msg` at `t` unless an error is already recorded (kResourceExhausted for limits).
  void Fail(const Token& t, const std::string& msg, StatusCode code = StatusCode::kInvalidArgument);
  // Consumes punctuation `p` / keyword `s`, or fails with "expected `p`, found ...".
  bool Expect(std::string_view p);
  bool ExpectIdent(std::string_view s);
  // `[` item {`,` item} [`,`] `]`; `item` parses one element (and reports its own errors).
  bool ParseList(const std::function<bool()>& item);

  const Status& error() const { return error_; }

  std::vector<Token> toks_;
  size_t pos_ = 0;

 private:
  std::string_view source_name_;
  Status error_;
};

}  // namespace arbiter::cedar::internal
