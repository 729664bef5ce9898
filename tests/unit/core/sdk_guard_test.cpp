// SetError: the one truncation of rg_error messages, used by the SDK and by the host's
// error_set service. Messages are cut to fit the slot, never inside a UTF-8 sequence.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "regiongate/sdk/guard.hpp"

namespace {

using rg::sdk::SetError;

TEST(SetErrorTest, CopiesAMessageThatFits) {
  rg_error error{};
  SetError(&error, RG_ERR_AUTH, "missing credential");
  EXPECT_EQ(error.code, RG_ERR_AUTH);
  EXPECT_STREQ(error.message, "missing credential");
}

TEST(SetErrorTest, CutsALongMessageToTheSlot) {
  rg_error error{};
  SetError(&error, RG_ERR_INTERNAL, std::string(5000, 'x'));
  EXPECT_EQ(std::strlen(error.message), size_t{RG_ERROR_MESSAGE_CAPACITY - 1});
}

TEST(SetErrorTest, NeverCutsAUtf8SequenceInHalf) {
  // 1022 ASCII bytes, then a 3-byte character that would straddle the 1023-byte limit.
  const std::string message = std::string(RG_ERROR_MESSAGE_CAPACITY - 2, 'a') + "\xE4\xB8\xAD";
  rg_error error{};
  SetError(&error, RG_ERR_PROTOCOL, message);
  EXPECT_EQ(std::string(error.message), std::string(RG_ERROR_MESSAGE_CAPACITY - 2, 'a'));
}

TEST(SetErrorTest, AcceptsANullSlot) { SetError(nullptr, RG_ERR_INTERNAL, "ignored"); }

}  // namespace
