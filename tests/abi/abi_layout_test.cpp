// Pins the layout of ABI v1: tables may only grow at the end, so every existing offset is
// frozen. A failure here means a change broke binary compatibility with built plug-ins.
#include <cstddef>

#include <gtest/gtest.h>

#include "regiongate/abi.h"

extern "C" {
size_t rg_abi_c_sizeof_plugin(void);
size_t rg_abi_c_sizeof_services(void);
size_t rg_abi_c_sizeof_event(void);
size_t rg_abi_c_offsetof_complete(void);
size_t rg_abi_c_offsetof_http(void);
}

namespace {

static_assert(sizeof(void*) == 8, "layout pins below are for LP64 targets");
static_assert(sizeof(rg_code) == 4 && sizeof(rg_event_kind) == 4 && sizeof(rg_finish_reason) == 4 &&
              sizeof(rg_log_level) == 4);

static_assert(offsetof(rg_str, ptr) == 0 && offsetof(rg_str, len) == 8 && sizeof(rg_str) == 16);

static_assert(offsetof(rg_plugin, struct_size) == 0);
static_assert(offsetof(rg_plugin, abi_major) == 4);
static_assert(offsetof(rg_plugin, abi_minor) == 6);
static_assert(offsetof(rg_plugin, id) == 8);
static_assert(offsetof(rg_plugin, version) == 16);
static_assert(offsetof(rg_plugin, vendor) == 24);
static_assert(offsetof(rg_plugin, description_json) == 32);
static_assert(offsetof(rg_plugin, instance_create) == 40);
static_assert(offsetof(rg_plugin, instance_destroy) == 48);
static_assert(offsetof(rg_plugin, complete) == 56);
static_assert(offsetof(rg_plugin, shutdown) == 64);
static_assert(sizeof(rg_plugin) == 72);

static_assert(offsetof(rg_host_services, struct_size) == 0);
static_assert(offsetof(rg_host_services, context) == 8);
static_assert(offsetof(rg_host_services, log) == 16);
static_assert(offsetof(rg_host_services, log_enabled) == 24);
static_assert(offsetof(rg_host_services, clock_monotonic_ns) == 32);
static_assert(offsetof(rg_host_services, clock_unix_ms) == 40);
static_assert(offsetof(rg_host_services, secret_get) == 48);
static_assert(offsetof(rg_host_services, is_cancelled) == 56);
static_assert(offsetof(rg_host_services, http) == 64);
static_assert(offsetof(rg_host_services, error_set) == 72);
static_assert(sizeof(rg_host_services) == 80);

static_assert(offsetof(rg_event, kind) == 4);
static_assert(offsetof(rg_event, data) == 8);
static_assert(offsetof(rg_event, finish) == 24);
static_assert(offsetof(rg_event, code) == 28);
static_assert(sizeof(rg_event) == 32);

static_assert(offsetof(rg_http_request, method) == 8);
static_assert(offsetof(rg_http_request, endpoint_id) == 24);
static_assert(offsetof(rg_http_request, path) == 40);
static_assert(offsetof(rg_http_request, headers) == 56);
static_assert(offsetof(rg_http_request, header_count) == 64);
static_assert(offsetof(rg_http_request, body) == 72);
static_assert(offsetof(rg_http_request, total_timeout_ms) == 88);
static_assert(offsetof(rg_http_request, idle_timeout_ms) == 92);
static_assert(sizeof(rg_http_request) == 96);

static_assert(offsetof(rg_error, code) == 4);
static_assert(offsetof(rg_error, message) == 8);
static_assert(sizeof(rg_error) == 8 + RG_ERROR_MESSAGE_CAPACITY);

static_assert(offsetof(rg_request, call) == 8);
static_assert(offsetof(rg_request, endpoint_id) == 16);
static_assert(offsetof(rg_request, json) == 32);
static_assert(sizeof(rg_request) == 48);

TEST(AbiLayout, CAndCxxCompilersAgree) {
  EXPECT_EQ(rg_abi_c_sizeof_plugin(), sizeof(rg_plugin));
  EXPECT_EQ(rg_abi_c_sizeof_services(), sizeof(rg_host_services));
  EXPECT_EQ(rg_abi_c_sizeof_event(), sizeof(rg_event));
  EXPECT_EQ(rg_abi_c_offsetof_complete(), offsetof(rg_plugin, complete));
  EXPECT_EQ(rg_abi_c_offsetof_http(), offsetof(rg_host_services, http));
}

TEST(AbiLayout, HasMemberRespectsStructSize) {
  rg_plugin plugin{};
  plugin.struct_size = static_cast<uint32_t>(offsetof(rg_plugin, complete));
  EXPECT_TRUE(RG_HAS_MEMBER(&plugin, instance_destroy));
  EXPECT_FALSE(RG_HAS_MEMBER(&plugin, complete));
  plugin.struct_size = sizeof(rg_plugin);
  EXPECT_TRUE(RG_HAS_MEMBER(&plugin, shutdown));
  const rg_plugin* none = nullptr;
  EXPECT_FALSE(RG_HAS_MEMBER(none, id));
}

TEST(AbiLayout, CodesAreStable) {
  EXPECT_EQ(RG_OK, 0);
  EXPECT_EQ(RG_ERR_RETRYABLE, 1);
  EXPECT_EQ(RG_ERR_AUTH, 2);
  EXPECT_EQ(RG_ERR_RATE_LIMITED, 3);
  EXPECT_EQ(RG_ERR_INVALID_REQUEST, 4);
  EXPECT_EQ(RG_ERR_PROVIDER_BLOCKED, 5);
  EXPECT_EQ(RG_ERR_UNAVAILABLE, 6);
  EXPECT_EQ(RG_ERR_CANCELLED, 7);
  EXPECT_EQ(RG_ERR_INTERNAL, 8);
  EXPECT_EQ(RG_ERR_PROTOCOL, 9);
  EXPECT_EQ(RG_ERR_EGRESS_DENIED, 10);
}

}  // namespace
