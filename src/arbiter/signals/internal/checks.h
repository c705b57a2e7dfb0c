// Check-digit and shape checks used by the sensitivity scanner. Internal: exposed for tests only.
#pragma once

#include <string_view>

namespace arbiter::signals::internal {

// Luhn (mod 10) over a string of ASCII digits.
bool LuhnValid(std::string_view digits);

// True when `digits` (13..19 ASCII digits) has the issuer prefix and length of a known card scheme
// (Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro).
bool KnownCardPrefix(std::string_view digits);

// `compact` is an IBAN without spaces, upper case. True when its country is registered, its length
// is that country's, and the ISO 7064 mod-97 remainder is 1.
bool IbanValid(std::string_view compact);

// Area/group/serial rules of US SSNs: `d` is 9 ASCII digits.
bool SsnValid(std::string_view d);

// Shannon entropy of the byte distribution, in bits per byte.
double ShannonEntropy(std::string_view s);

}  // namespace arbiter::signals::internal
