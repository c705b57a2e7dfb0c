// Single-use registries: where introspection records that an intent token has been used, so that
// its second presentation is refused (`replayed`). Two implementations, chosen by configuration
// (SingleUseConfig; docs/IDENTITY.md says which to use when):
//
//   - kStore (the default, portable): the grant store records the use in the intent's own row
//     (GrantStore::ConsumeIntent, one conditional UPDATE and one database commit per use). Works
//     wherever the grant store works, including several hosts sharing one SQL database.
//   - kMappedFile: a fixed-size table of used-token digests in a memory-mapped file next to the
//     database (`<data dir>/intents.used`), updated with compare-and-swap: no system call and no
//     lock per use. Shared by every process on one host that opens the same file; survives the
//     death (kill -9) of the process that recorded a use, like SQLite's WAL with
//     synchronous=NORMAL; not power-loss durable unless `sync_each_use` (an msync per use).
//
//   SingleUseConfig cfg{.backend = SingleUseBackend::kMappedFile};
//   ARBITER_TRY(std::unique_ptr<SingleUseRegistry> used, OpenSingleUseRegistry(cfg, data_dir));
//   IntentTokenOptions io{.issuer = issuer, .single_use = used.get()};  // nullptr: kStore
//
// A registry must outlive the IntentTokenService using it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"

namespace arbiter::grants {

enum class UseOutcome : std::uint8_t {
  kFirstUse,     // recorded now: the caller may accept the token
  kAlreadyUsed,  // a use was recorded before (or one was interrupted by a crash): refuse
};

enum class IssuedUse : std::uint8_t {
  kFirstUse,     // the token was recorded as issued and is now used: accept
  kAlreadyUsed,  // refuse
  kNotRecorded,  // the registry does not know the token: ask the grant store (nothing changed)
};

// Tells every process sharing a grant store that grants are changing, so that caches of grant
// state drop their entries. A writer brackets each grant store change with BeginChange and
// EndChange; a reader takes a Stamp before reading the store and may reuse what it read only
// while Stamp returns the same value. Stamp is nullopt while any change is in progress (also one
// whose process died inside it, until the signal is reset), so nothing is cached or reused then.
class GrantChangeSignal {
 public:
  virtual ~GrantChangeSignal() = default;
  virtual void BeginChange() = 0;
  virtual void EndChange() = 0;
  virtual std::optional<std::uint64_t> Stamp() = 0;
};

class SingleUseRegistry {
 public:
  // A use is remembered until the token's expiry plus this (the largest verification leeway an
  // IntentTokenService accepts), after which no verifier accepts the token anyway.
  static constexpr std::int64_t kForgetAfterExpirySeconds = 60;
  // Uses of tokens expiring further ahead than this are refused as invalid arguments: tokens live
  // at most 120 s plus the not-before leeway.
  static constexpr std::int64_t kMaxExpiryAheadSeconds = 180;

  virtual ~SingleUseRegistry() = default;

  // Records the use of the token whose SHA-256 is `token_sha256` and whose `exp` is `expires_at`
  // (Unix seconds), atomically across all threads and processes sharing the registry: exactly one
  // caller gets kFirstUse per token; every later one kAlreadyUsed. Errors: kInvalidArgument when
  // `expires_at` is not within (now - kForgetAfterExpirySeconds, now + kMaxExpiryAheadSeconds];
  // kResourceExhausted when the registry is full (it never forgets a live use to make room).
  virtual Result<UseOutcome> Use(const Sha256Digest& token_sha256, std::int64_t expires_at,
                                 std::int64_t now) = 0;

  // Records, at mint time, that Arbiter issued the token with this digest (after the grant store
  // recorded it), so that introspection can recognise it without reading the store
  // (UseIfIssued). kAlreadyExists if it was already used; other errors as Use.
  virtual Status RecordIssued(const Sha256Digest& token_sha256, std::int64_t expires_at,
                              std::int64_t now) = 0;

  // Uses a token recorded by RecordIssued: kFirstUse exactly once, kAlreadyUsed after, and
  // kNotRecorded (changing nothing) when the registry does not know it; then the caller checks
  // the store and calls Use. Errors as Use.
  virtual Result<IssuedUse> UseIfIssued(const Sha256Digest& token_sha256, std::int64_t expires_at,
                                        std::int64_t now) = 0;

  // Whether the token was recorded (as issued or used), changing nothing: how introspection
  // tells a genuine token from a forgery when explaining a refusal before the grant store has
  // the token's record. Errors as Use (a token outside the window is never recorded).
  virtual Result<bool> Recorded(const Sha256Digest& token_sha256, std::int64_t expires_at,
                                std::int64_t now) = 0;

  // The grant-change signal shared by the registry's users, or nullptr.
  virtual GrantChangeSignal* grant_changes() = 0;

  // For messages and logs, e.g. "single-use file `/var/lib/arbiter/intents.used`".
  virtual std::string Describe() const = 0;
};

struct MappedSingleUseOptions {
  std::filesystem::path path;  // created when missing; e.g. <data dir>/intents.used
  // Table size. Each slot is 32 bytes; a use keeps its slot for 4-13 minutes (see
  // docs/IDENTITY.md), so 2^20 slots (32 MiB, sparse until touched) carry ~1,000 uses/s.
  std::uint64_t slots = std::uint64_t{1} << 20;
  // msync(MS_SYNC) the slot's page before answering: survives power loss, at the cost of a disk
  // write per use.
  bool sync_each_use = false;
};
inline constexpr std::uint64_t kMinSingleUseSlots = 1024;
inline constexpr std::uint64_t kMaxSingleUseSlots = std::uint64_t{1} << 25;  // 1 GiB

// Opens (or creates) the mapped registry file. A file that is not a registry, of another version,
// truncated, or made with another slot count is refused with an error naming the file and what is
// wrong (kDataLoss or kFailedPrecondition); it is never repaired or overwritten.
Result<std::unique_ptr<SingleUseRegistry>> OpenMappedSingleUseRegistry(
    const MappedSingleUseOptions& options);

// The configuration choice, for the grants/identity section of the server's configuration.
enum class SingleUseBackend : std::uint8_t { kStore, kMappedFile };
// "store" or "mmap"; anything else is kInvalidArgument.
Result<SingleUseBackend> ParseSingleUseBackend(std::string_view name);
std::string_view SingleUseBackendName(SingleUseBackend b);

struct SingleUseConfig {
  SingleUseBackend backend = SingleUseBackend::kStore;
  std::uint64_t slots = MappedSingleUseOptions{}.slots;  // kMappedFile only
  bool sync_each_use = false;                            // kMappedFile only
};
inline constexpr std::string_view kSingleUseFileName = "intents.used";

// kStore: returns nullptr (the grant store records uses). kMappedFile: opens
// `<data_dir>/intents.used`.
Result<std::unique_ptr<SingleUseRegistry>> OpenSingleUseRegistry(
    const SingleUseConfig& config, const std::filesystem::path& data_dir);

}  // namespace arbiter::grants
