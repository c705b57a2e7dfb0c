// The process the crash test kills: appends to a ledger from several threads as fast as it can and
// reports on stdout every entry the ledger acknowledged ("A <index> <entry>") and every checkpoint
// it published ("C <size> <root hex>"), each line written only after the acknowledgement.
//
//   ledger_crash_child <data dir> <round>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/ledger/ledger.h"

namespace {

std::mutex out_mu;

void Emit(const std::string& line) {
  std::lock_guard lock(out_mu);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(1, p, left);
    if (n <= 0) std::_Exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ledger_crash_child <data dir> <round>\n");
    return 2;
  }
  using namespace arbiter;
  ledger::LedgerOptions options;
  options.data_dir = argv[1];
  options.origin = "crash.test/ledger";
  options.integration_interval = std::chrono::milliseconds(3);
  options.integration_max_batch = 200;
  // Odd rounds acknowledge entries once written (no fsync; kill -9 must still lose none of them),
  // even rounds once fsynced.
  options.sync_appends = std::stoi(argv[2]) % 2 == 0;
  auto opened = ledger::Ledger::Open(options);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  auto& l = **opened;
  const std::string round = argv[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t n = 0;; ++n) {
        // Threads alternate between single appends and small batches.
        const size_t batch = (t % 2 == 0) ? 1 : 1 + n % 16;
        std::vector<std::string> texts;
        for (size_t k = 0; k < batch; ++k) {
          texts.push_back("r" + round + "-t" + std::to_string(t) + "-n" + std::to_string(n) + "-k" +
                          std::to_string(k) + "-" + std::string(60 + (n + k) % 200, 'x'));
        }
        std::vector<ByteView> views;
        for (const auto& s : texts) views.push_back(AsBytes(s));
        auto first = l.AppendBatch(views);
        if (!first) {
          std::fprintf(stderr, "append: %s\n", first.error().ToString().c_str());
          std::_Exit(1);
        }
        std::string lines;
        for (size_t k = 0; k < batch; ++k) {
          lines += "A " + std::to_string(*first + k) + " " + texts[k] + "\n";
        }
        Emit(lines);
      }
    });
  }
  std::uint64_t last = 0;
  while (true) {
    auto cp = l.LatestCheckpoint();
    if (cp && cp->checkpoint.size != last) {
      last = cp->checkpoint.size;
      Emit("C " + std::to_string(last) + " " + HexEncode(cp->checkpoint.root) + "\n");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}
