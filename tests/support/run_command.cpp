#include "support/run_command.h"

#include <sys/wait.h>

#include <cstdio>

namespace arbiter::testing {

CommandResult RunCommand(const std::string& command_line) {
  CommandResult r;
  const std::string cmd = command_line + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int status = ::pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace arbiter::testing
