// Arbiter's version, as printed by `arbiter --version`.
#pragma once

namespace arbiter {
inline constexpr const char* kVersion = "0.1.0";
}
