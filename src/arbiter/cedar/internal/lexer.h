// A small lexer shared by the policy and schema parsers: identifiers, integer literals, string
// literals (kept raw; see Unescape), punctuation, `//` comments. Tracks line and column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/internal/ast.h"

namespace arbiter::cedar::internal {

enum class TokKind : std::uint8_t { kEof, kIdent, kInt, kStr, kPunct, kError };

struct Token {
  TokKind kind = TokKind::kEof;
  std::string_view text;  // identifier, digits, raw string body (no quotes), or punctuation
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  std::uint32_t offset = 0;
};

// Splits all of `src` into tokens (ending with kEof, or kError with `text` describing the problem).
std::vector<Token> Tokenize(std::string_view src);

// Decodes a raw string body. With `pattern`, `\*` is a literal star and an unescaped `*` is a
// wildcard (parts are appended to `parts`); otherwise the text goes to `out`. Returns false with
// `error` set on a bad escape.
bool Unescape(std::string_view raw, bool pattern, std::string* out, std::vector<PatternPart>* parts,
              std::string* error);

}  // namespace arbiter::cedar::internal
