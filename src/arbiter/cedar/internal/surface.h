// Helpers shared by the JSON policy format (policy_json.cpp) and the formatter (format.cpp).
// Private to the cedar module.
#pragma once

#include <string>
#include <string_view>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/value.h"

namespace arbiter::cedar::internal {

// True for `[_A-Za-z][_A-Za-z0-9]*`.
bool IsIdentifier(std::string_view s);
// Cedar's reserved identifiers (`true false if then else in is like has __cedar`).
bool IsReservedWord(std::string_view s);
// A valid entity type or namespace path: identifiers joined by `::`, none reserved.
bool IsTypeName(std::string_view s);

// The Cedar name of an extension function or method, e.g. "decimal", "isInRange".
std::string_view ExtFnName(ExtFn fn);

// For an extension value (decimal, ipaddr, datetime, duration): the constructor name and a string
// argument that constructs exactly this value, e.g. {"datetime", "2024-10-15T11:35:00.001Z"}.
// Returns false for other kinds.
bool ExtensionLiteral(const Value& v, std::string* fn, std::string* arg);

// Cedar text of a string literal body (without quotes), escaped as Cedar prints strings.
std::string EscapeString(std::string_view s);

// An expression as Cedar text on one line, with the fewest parentheses that re-parse to the same
// AST.
std::string FormatExpr(const Expr& e);

}  // namespace arbiter::cedar::internal
