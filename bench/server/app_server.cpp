// arbiter_bench_app: the assembled Arbiter service (App, exactly what `arbiter serve` runs) for the
// load test of `POST /v1/cases`, without building the whole CLI. Prints its address on stdout,
// serves until SIGINT/SIGTERM; the admin credential is in <data>/admin.token.
//
//   arbiter_bench_app --pack examples/support --data /tmp/d [--threads N] [--access-log FILE|off]
//                     [--evidence-ack fsync|written]
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "arbiter/server/app.h"
#include "arbiter/server/config.h"

int main(int argc, char** argv) {
  arbiter::server::ServeConfig config;
  config.server.listen = "127.0.0.1:0";
  config.access_log = "off";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") config.server.threads = std::atoi(argv[i + 1]);
    if (a == "--access-log") config.access_log = argv[i + 1];
    if (a == "--pack") config.pack_dir = argv[i + 1];
    if (a == "--data") config.data_dir = argv[i + 1];
    if (a == "--evidence-ack") {
      auto ack = arbiter::server::ParseEvidenceAck(argv[i + 1]);
      if (!ack) {
        std::cerr << "arbiter_bench_app: " << ack.error().message() << "\n";
        return 1;
      }
      config.evidence_ack = *ack;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto app = arbiter::server::App::Start(config);
  if (!app) {
    std::cerr << "arbiter_bench_app: " << app.error().message() << "\n";
    return 1;
  }
  std::cout << (*app)->address() << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  (*app)->Shutdown();
  return 0;
}
