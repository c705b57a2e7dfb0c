// Reading a command's input file: a path, or standard input for "-", never more than a bound.
//
//   ARBITER_TRY(std::string text, ReadInput(path, 16u << 20));
//
// The input is read in chunks and refused as soon as it passes `max_bytes`, so a huge file or an
// endless pipe cannot exhaust memory. Errors (one line, naming the input): kNotFound "cannot read
// `PATH`", kResourceExhausted "`PATH` is larger than N bytes" (PATH is "standard input" for "-").
#pragma once

#include <cstddef>
#include <string>

#include "arbiter/common/status.h"

namespace arbiter::cli {

Result<std::string> ReadInput(const std::string& path, size_t max_bytes);

}  // namespace arbiter::cli
