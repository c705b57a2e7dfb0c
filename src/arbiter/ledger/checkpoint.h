// Transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): the text of a signed note that
// commits to a tree,
//
//   <origin>\n
//   <decimal tree size>\n
//   <base64 root hash>\n
//   [<extension line>\n ...]
//
//   Checkpoint cp{.origin = "example.com/log", .size = 8, .root = root};
//   std::string text = cp.Format();
//   ARBITER_TRY(Checkpoint parsed, ParseCheckpoint(text));
//
// Parsing is strict: a non-empty origin, a canonical decimal size (no sign, no leading zeros), a
// 32-byte root in canonical base64, non-empty extension lines, nothing else.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/ledger/merkle.h"
#include "arbiter/ledger/note.h"

namespace arbiter::ledger {

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;

  std::string Format() const;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Formats a checkpoint body whose root is arbitrary bytes (other hash sizes; tests).
std::string FormatCheckpointBody(std::string_view origin, std::uint64_t size, ByteView root);

Result<Checkpoint> ParseCheckpoint(std::string_view text);

// A checkpoint with the note that signs it.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string note;
};

// Opens `note` with `verifiers`, parses its text as a checkpoint and, when `origin` is non-empty,
// requires that origin.
Result<SignedCheckpoint> OpenCheckpoint(std::string_view note,
                                        std::span<const NoteVerifierKey> verifiers,
                                        std::string_view origin = {});

}  // namespace arbiter::ledger
