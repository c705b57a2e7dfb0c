#include "arbiter/store/writeback.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "arbiter/common/thread_name.h"

namespace arbiter::store {

namespace {
constexpr off_t kPage = 4096;
}  // namespace

FileWriteback::FileWriteback(std::filesystem::path path) : path_(std::move(path)) {}

FileWriteback::FileWriteback(FileWriteback&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileWriteback::~FileWriteback() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileWriteback::Start() {
#if defined(__linux__)
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return false;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return false;
  const off_t whole = st.st_size / kPage * kPage;
  if (whole == 0) return true;  // nothing but a partial page yet
  return ::sync_file_range(fd_, 0, whole, SYNC_FILE_RANGE_WRITE) == 0;
#else
  return false;
#endif
}

WritebackPacer::WritebackPacer(std::vector<std::filesystem::path> files,
                               WritebackPacerOptions options)
    : options_(std::move(options)) {
  files_.reserve(files.size());
  for (auto& f : files) files_.emplace_back(std::move(f));
  thread_ = std::thread([this] {
    NameThisThread(options_.thread_name);
    Run();
  });
}

WritebackPacer::~WritebackPacer() { Stop(); }

void WritebackPacer::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = true;
  if (idle_) cv_.notify_one();
}

void WritebackPacer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::uint64_t WritebackPacer::rounds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rounds_;
}

std::uint64_t WritebackPacer::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

void WritebackPacer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    idle_ = true;
    cv_.wait(lock, [&] { return stopping_ || notified_; });
    idle_ = false;
    // Writes keep coming: one round per period (what was written during it goes out together).
    cv_.wait_for(lock, options_.period, [&] { return stopping_; });
    if (stopping_) return;
    notified_ = false;
    lock.unlock();
    std::uint64_t ok = 0;
    for (FileWriteback& f : files_) ok += f.Start() ? 1 : 0;
    lock.lock();
    ++rounds_;
    started_ += ok;
  }
}

}  // namespace arbiter::store
