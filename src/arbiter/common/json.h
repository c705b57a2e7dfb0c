// JSON on Boost.JSON: bounded parsing with one-line located errors, exact 64-bit integers, compact
// and canonical serialisation, and typed field access whose errors name the field.
//
//   ARBITER_TRY(boost::json::value doc, ParseJson(text));
//   ARBITER_TRY(const boost::json::object* obj, AsObject(doc, "request"));
//   ARBITER_TRY(std::int64_t n, GetInt64(*obj, "count", "request"));
//
// Integers are kept exactly: values in [-2^63, 2^63) parse as int64, larger ones up to 2^64-1 as
// uint64.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter {

struct JsonLimits {
  size_t max_bytes = 16u << 20;  // input size
  size_t max_depth = 64;         // nesting of arrays and objects
};

// Parses one JSON document. Errors are kInvalidArgument ("json: <problem> at line L, column C") or
// kResourceExhausted for input over the size or depth limit.
Result<boost::json::value> ParseJson(std::string_view text, const JsonLimits& limits = {});

// Compact serialisation.
std::string ToJson(const boost::json::value& v);

// Canonical JSON (in the manner of RFC 8785): object keys sorted by their UTF-8 bytes (the same
// order as by code points), no insignificant whitespace, integers exact, strings with Boost.JSON's
// minimal escapes. Two equal values always serialise to the same bytes, so the result can be hashed
// and signed.
std::string CanonicalJson(const boost::json::value& v);

// Appends `s` as a JSON string with Boost.JSON's minimal escapes (the bytes boost::json::serialize
// and CanonicalJson produce): `"` and `\` escaped, control characters as \b \t \n \f \r or
// \u00xx, everything else as is.
void AppendJsonString(std::string_view s, std::string& out);

// Typed access. `where` names the enclosing object in error messages (e.g. "case.customer"), so
// that an error reads "case.customer.tier: expected a string".
Result<const boost::json::object*> AsObject(const boost::json::value& v, std::string_view where);
Result<std::string_view> GetString(const boost::json::object& o, std::string_view key,
                                   std::string_view where);
Result<std::int64_t> GetInt64(const boost::json::object& o, std::string_view key,
                              std::string_view where);
Result<bool> GetBool(const boost::json::object& o, std::string_view key, std::string_view where);
Result<double> GetNumber(const boost::json::object& o, std::string_view key,
                         std::string_view where);
// Absent (or null) gives std::nullopt; present with the wrong type is an error.
Result<std::optional<std::string_view>> GetOptionalString(const boost::json::object& o,
                                                          std::string_view key,
                                                          std::string_view where);

// The JSON type name of a value: "null", "bool", "number", "string", "array", "object".
std::string_view JsonKindName(const boost::json::value& v);

}  // namespace arbiter
