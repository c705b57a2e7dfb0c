// Early writeback: start the kernel's writing of a file's dirty pages in small pieces while they
// are produced, so that a later fsync of the file (a WAL checkpoint's, say) finds little left to
// write and does not put a burst of megabytes on the disk in front of other files' fsyncs.
//
//   store::WritebackPacer pacer({dir / "arbiter.db-wal", dir / "arbiter.db"},
//                               {.period = std::chrono::milliseconds(5),
//                                .thread_name = "arbiter-case-wb"});
//   ... after each commit that wrote to those files:
//   pacer.Notify();
//
// Contract: this never makes anything durable and never waits for the disk's writes to finish:
// it is sync_file_range(SYNC_FILE_RANGE_WRITE) on a read-only descriptor of its own (Linux; a
// no-op elsewhere). Durability stays with the fsyncs of whoever writes the file; the pages are
// the same ones they would write, only sooner. The last, partly written 4 KiB page of a file is
// left alone (an appender is likely to write it again, and on devices that need stable pages a
// write to a page under writeback waits for it). The files need not exist yet: each is opened
// when it first can be. Independent of what writes the files (SQLite or anything else).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace arbiter::store {

// One file.
class FileWriteback {
 public:
  explicit FileWriteback(std::filesystem::path path);
  ~FileWriteback();
  FileWriteback(FileWriteback&& other) noexcept;
  FileWriteback& operator=(FileWriteback&&) = delete;
  FileWriteback(const FileWriteback&) = delete;
  FileWriteback& operator=(const FileWriteback&) = delete;

  // Queues the writeback of the file's dirty pages up to its last whole 4 KiB page and returns
  // without waiting for them (it may block briefly when the device's queue is full). False when
  // the file cannot be opened (e.g. it does not exist yet) or the call fails.
  bool Start();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

struct WritebackPacerOptions {
  // At most one round of Start() over the files per period, and one more a period after the last
  // Notify().
  std::chrono::microseconds period{5000};
  std::string thread_name = "arbiter-wb";  // at most 15 bytes are kept
};

// A thread that, while writes keep coming (Notify), starts the writeback of its files once per
// period; idle (no wake-ups) otherwise.
class WritebackPacer {
 public:
  WritebackPacer(std::vector<std::filesystem::path> files, WritebackPacerOptions options = {});
  ~WritebackPacer();  // Stop()
  WritebackPacer(const WritebackPacer&) = delete;
  WritebackPacer& operator=(const WritebackPacer&) = delete;

  // Something was written to the files: start their writeback within a period. Cheap (a flag,
  // and a wake-up only when the thread is idle); any thread.
  void Notify();
  // Ends the thread (without a last round). Idempotent.
  void Stop();
  // Rounds run so far, and Start() calls that succeeded (for tests and diagnostics).
  std::uint64_t rounds() const;
  std::uint64_t started() const;

 private:
  void Run();

  const WritebackPacerOptions options_;
  std::vector<FileWriteback> files_;  // the thread's only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  bool idle_ = false;
  bool stopping_ = false;
  std::uint64_t rounds_ = 0;
  std::uint64_t started_ = 0;
  std::thread thread_;
};

}  // namespace arbiter::store
