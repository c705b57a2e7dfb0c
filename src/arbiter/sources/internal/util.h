// Helpers shared by the source adapters. Internal.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/sources/adapters.h"

namespace arbiter::sources::internal {

// "<source>: <field>: <problem>" as kInvalidArgument.
Status Malformed(std::string_view source, std::string_view field, std::string_view problem);

Result<boost::json::value> ParsePayload(std::string_view source, std::string_view bytes,
                                        const ConvertLimits& limits);

// The value of an optional field as a string: strings as they are, integers in decimal; absent or
// null gives "". Other types are an error naming `where`.`key`.
Result<std::string> StringOrNumber(std::string_view source, const boost::json::object& o,
                                   std::string_view key, std::string_view where);

// Enforces the Case text limit on a field.
Status CheckText(std::string_view source, std::string_view field, const std::string& text);

// Copies every field of `o` not named in `consumed` into attributes.
void KeepUnknown(const boost::json::object& o, std::initializer_list<std::string_view> consumed,
                 boost::json::object& attributes);

// Replaces invalid UTF-8 sequences with U+FFFD.
std::string SanitizeUtf8(std::string_view s);

// Removes HTML tags and decodes the common entities (for sources that only give HTML).
std::string HtmlToText(std::string_view html);

// "2018-01-11T13:08:03.317+0300" → "2018-01-11T13:08:03.317+03:00"; "2014-12-09 23:09:51" →
// "2014-12-09T23:09:51Z" (ServiceNow's UTC). Unrecognised forms are returned unchanged.
std::string NormalizeTimestamp(std::string_view ts);

}  // namespace arbiter::sources::internal
