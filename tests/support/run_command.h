// Running a command line in a test (the `arbiter` CLI, mostly) and capturing what it prints.
//
//   CommandResult r = RunCommand(cli + " cedar validate --policies p.cedar --schema
//   s.cedarschema"); EXPECT_EQ(r.exit_code, 2) << r.out;
#pragma once

#include <string>

namespace arbiter::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not be started or did not exit normally
  std::string out;     // standard output and standard error, interleaved
};

// Runs `command_line` through /bin/sh with stderr redirected into stdout.
CommandResult RunCommand(const std::string& command_line);

}  // namespace arbiter::testing
