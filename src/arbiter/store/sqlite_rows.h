// Reading query results into records: the loop every SQLite-backed store writes for "all rows"
// and "the one row, or not found", once. `read` turns the current row into a record; it may
// return the record or a Result of it (a row it cannot read, e.g. an unknown enum value, ends the
// read with that error).
//
//   ARBITER_TRY(auto sel, db->Prepare("SELECT name, owner FROM workloads ORDER BY name"));
//   ARBITER_TRY(std::vector<Workload> all, ReadRows(sel, ReadWorkload));
//   sel2.Bind(1, name);
//   ARBITER_TRY(Workload w, ReadRow(sel2, ReadWorkload, [&] {
//     return "workload `" + name + "` is not registered";  // the kNotFound message
//   }));
//
// Neither resets the statement: a statement kept for reuse is reset by its owner.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::store {
namespace internal {
template <typename T>
struct Unwrapped {
  using type = T;
};
template <typename T>
struct Unwrapped<Result<T>> {
  using type = T;
};
}  // namespace internal

// The record type a row reader produces, whether it returns T or Result<T>.
template <typename Read>
using RowOf = typename internal::Unwrapped<
    std::decay_t<std::invoke_result_t<Read&, const SqliteStatement&>>>::type;

// Every remaining row of `sel` (already bound), in order.
template <typename Read>
Result<std::vector<RowOf<Read>>> ReadRows(SqliteStatement& sel, Read&& read) {
  std::vector<RowOf<Read>> out;
  while (true) {
    ARBITER_TRY(bool row, sel.Step());
    if (!row) return out;
    ARBITER_TRY(RowOf<Read> record, Result<RowOf<Read>>(read(std::as_const(sel))));
    out.push_back(std::move(record));
  }
}

// The next row of `sel`, or kNotFound with the message `not_found()` when there is none.
template <typename Read, typename NotFound>
Result<RowOf<Read>> ReadRow(SqliteStatement& sel, Read&& read, NotFound&& not_found) {
  ARBITER_TRY(bool row, sel.Step());
  if (!row) return Status::NotFound(std::string(not_found()));
  return Result<RowOf<Read>>(read(std::as_const(sel)));
}

}  // namespace arbiter::store
