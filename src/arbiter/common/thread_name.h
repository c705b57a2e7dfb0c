// Names the calling thread so that `top -H`, `ps -L`, perf and gdb tell the server's threads apart.
#pragma once

#include <string_view>

namespace arbiter {

// Sets the calling thread's name; Linux keeps the first 15 bytes. Best effort: a failure is ignored
// (a name is a diagnostic, never needed for correctness).
void NameThisThread(std::string_view name);

}  // namespace arbiter
