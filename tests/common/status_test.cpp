#include "arbiter/common/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace arbiter {
namespace {

Result<int> ParseDigit(char c) {
  if (c < '0' || c > '9') return Status::InvalidArgument(std::string("not a digit: `") + c + "`");
  return c - '0';
}

Result<int> SumDigits(std::string_view s) {
  int sum = 0;
  for (char c : s) {
    ARBITER_TRY(int d, ParseDigit(c));
    sum += d;
  }
  return sum;
}

Status CheckAll(std::string_view s) {
  ARBITER_RETURN_IF_ERROR(SumDigits(s));
  return Status::Ok();
}

TEST(Status, TryPropagatesTheFirstError) {
  EXPECT_EQ(SumDigits("123").value(), 6);
  auto r = SumDigits("12x4");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "not a digit: `x`");
  EXPECT_EQ(CheckAll("9a").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckAll("99").ok());
}

TEST(Status, ResultFromOkStatusIsAnInternalError) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInternal);
}

TEST(Status, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Status, ContextAndToString) {
  Status s = Status::NotFound("case `c-1`").WithContext("close");
  EXPECT_EQ(s.ToString(), "not_found: close: case `c-1`");
  EXPECT_EQ(Status::Ok().ToString(), "ok");
}

}  // namespace
}  // namespace arbiter
