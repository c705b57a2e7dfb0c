// `arbiter serve`: runs the HTTP API until SIGINT or SIGTERM, then stops gracefully.
#include <CLI/CLI.hpp>

#include <boost/json/object.hpp>

#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "arbiter/cli/command_registry.h"
#include "arbiter/common/json.h"
#include "arbiter/common/version.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/server/app.h"
#include "arbiter/server/config.h"

namespace arbiter::cli {
namespace {

struct ServeFlags {
  std::string config;
  std::string pack;
  std::string data;
  std::string listen;
  std::string access_log;
  std::string evidence_ack;
  std::string single_use;
  int threads = -1;
  bool json = false;
};

int RunServe(const ServeFlags& flags) {
  server::ServeConfig config;
  if (!flags.config.empty()) {
    auto loaded = server::LoadServeConfig(flags.config);
    if (!loaded) {
      std::cerr << "arbiter serve: " << loaded.error().message() << "\n";
      return 1;
    }
    config = std::move(*loaded);
  }
  if (!flags.listen.empty()) config.server.listen = flags.listen;
  if (!flags.data.empty()) config.data_dir = flags.data;
  if (!flags.pack.empty()) config.pack_dir = flags.pack;
  if (!flags.access_log.empty()) config.access_log = flags.access_log;
  if (flags.threads >= 0) config.server.threads = flags.threads;
  if (!flags.evidence_ack.empty()) {
    auto ack = server::ParseEvidenceAck(flags.evidence_ack);
    if (!ack) {
      std::cerr << "arbiter serve: --evidence-ack: " << ack.error().message() << "\n";
      return 1;
    }
    config.evidence_ack = *ack;
  }
  if (!flags.single_use.empty()) {
    auto backend = grants::ParseSingleUseBackend(flags.single_use);
    if (!backend) {
      std::cerr << "arbiter serve: --single-use: " << backend.error().message() << "\n";
      return 1;
    }
    config.single_use.backend = *backend;
  }
  if (auto listen = server::ParseListenAddress(config.server.listen); !listen) {
    std::cerr << "arbiter serve: " << listen.error().message() << "\n";
    return 1;
  }

  // Block the stop signals in every thread (the server's threads inherit this mask) and wait for
  // them here, synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto app = server::App::Start(config);
  if (!app) {
    std::cerr << "arbiter serve: " << app.error().message() << "\n";
    return 1;
  }
  const std::string pack = config.pack_dir.empty() ? "" : config.pack_dir;
  const std::string ack(server::EvidenceAckName(config.evidence_ack));
  const std::string ack_text =
      config.evidence_ack == server::EvidenceAck::kFsync
          ? "fsync (responses wait for the evidence fsync)"
          : "written (responses wait for the evidence write; fsync within " +
                std::to_string(config.evidence_sync_interval.count()) + " ms)";
  const std::string single_use(grants::SingleUseBackendName(config.single_use.backend));
  const std::string single_use_text =
      config.single_use.backend == grants::SingleUseBackend::kStore
          ? "store (one database commit per intent-token use)"
          : "mmap (" +
                (std::filesystem::path((*app)->data_dir()) / grants::kSingleUseFileName).string() +
                (config.single_use.sync_each_use ? ", msync per use)" : ")");
  if (flags.json) {
    boost::json::object o;
    o["version"] = kVersion;
    o["listen"] = (*app)->address();
    o["data"] = (*app)->data_dir();
    o["pack"] = pack.empty() ? boost::json::value(nullptr) : boost::json::value(pack);
    o["pack_hash"] = (*app)->pack_hash();
    o["admin_token_file"] = (*app)->admin_token_path();
    o["ledger_origin"] = (*app)->ledger_origin();
    o["ledger_verifier_key"] = (*app)->ledger_verifier_key();
    o["evidence_ack"] = ack;
    o["single_use"] = single_use;
    std::cout << ToJson(o) << std::endl;
  } else {
    std::cout << "arbiter " << kVersion << " serving\n"
              << "  listen:      http://" << (*app)->address() << "\n"
              << "  data:        " << (*app)->data_dir() << "\n"
              << "  pack:        "
              << (pack.empty() ? "(none)" : pack + " (" + (*app)->pack_hash() + ")") << "\n"
              << "  ledger:      " << (*app)->ledger_origin() << "\n"
              << "  verifier key: " << (*app)->ledger_verifier_key() << "\n"
              << "  evidence:    " << ack_text << "\n"
              << "  intent uses: " << single_use_text << "\n"
              << "  admin token: " << (*app)->admin_token_path()
              << " (send as `Authorization: Bearer <token>`)\n"
              << "stop with Ctrl-C or SIGTERM" << std::endl;
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (!flags.json)
    std::cout << "stopping (" << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
              << "): draining connections" << std::endl;
  (*app)->Shutdown();
  if (!flags.json) std::cout << "stopped" << std::endl;
  return 0;
}

void AddServeCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve =
      app.add_subcommand("serve", "Run the Arbiter HTTP API (stops gracefully on SIGINT/SIGTERM)");
  serve->add_option("--config", flags->config, "TOML configuration file (see docs/SERVER.md)");
  serve->add_option("--pack", flags->pack, "Policy pack directory");
  serve->add_option("--data", flags->data,
                    "Data directory for the embedded store (default: ./arbiter-data)");
  serve->add_option("--listen", flags->listen,
                    "Address to listen on, host:port (default: 127.0.0.1:8080; port 0 picks one)");
  serve->add_option("--access-log", flags->access_log,
                    "Where JSON access logs go: - (stderr, default), off, or a file");
  serve->add_option("--evidence-ack", flags->evidence_ack,
                    "When a write's response leaves: fsync (default: evidence fsynced) or written "
                    "(evidence in the ledger's log, fsynced within evidence_sync_interval_ms)");
  serve->add_option("--single-use", flags->single_use,
                    "Where intent-token uses are recorded: mmap (default: <data>/intents.used, "
                    "one host) or store (the database; several hosts sharing one database)");
  serve->add_option("--threads", flags->threads, "I/O threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  serve->add_flag("--json", flags->json, "Print the startup summary as one JSON line on stdout");
  serve->callback([flags, &ctx] { ctx.exit_code = RunServe(*flags); });
}

}  // namespace

ARBITER_COMMAND_GROUP(serve, AddServeCommands);

}  // namespace arbiter::cli
