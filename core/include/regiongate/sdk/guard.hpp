// The catch-all guard for plug-in entry points: no C++ exception may cross the C ABI
// (DESIGN rule 5). Every trampoline in plugin.hpp runs plug-in code through Guard().
#pragma once

#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "regiongate/abi.h"

namespace rg::sdk {

/// A code plus a message, the plug-in side's error value.
struct Status {
  rg_code code = RG_OK;
  std::string message;

  bool ok() const { return code == RG_OK; }
  static Status Ok() { return {}; }
};

/// Runs `fn` (returning rg_code) and turns any exception into RG_ERR_INTERNAL, reporting
/// its text through `on_error(code, message)`.
template <class Fn, class OnError>
rg_code Guard(Fn&& fn, OnError&& on_error) noexcept {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::bad_alloc&) {
    on_error(RG_ERR_INTERNAL, std::string("plug-in ran out of memory"));
  } catch (const std::exception& e) {
    try {
      on_error(RG_ERR_INTERNAL, std::string("plug-in threw: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
    try {
      on_error(RG_ERR_INTERNAL, std::string("plug-in threw a non-standard exception"));
    } catch (...) {
    }
  }
  return RG_ERR_INTERNAL;
}

/// Guard for functions returning nothing (e.g. instance_destroy).
template <class Fn>
void GuardVoid(Fn&& fn) noexcept {
  try {
    std::forward<Fn>(fn)();
  } catch (...) {
  }
}

/// Writes `code` and `message` into a caller-owned error slot, cutting the message to fit
/// RG_ERROR_MESSAGE_CAPACITY at a UTF-8 character boundary (abi.h's rule for rg_error).
/// `error` may be NULL. The host's error_set service is this function, so a plug-in that
/// fills a slot itself and one that asks the host produce the same bytes.
inline void SetError(rg_error* error, rg_code code, std::string_view message) noexcept {
  if (error == nullptr) return;
  error->code = code;
  size_t n = message.size() < RG_ERROR_MESSAGE_CAPACITY - 1 ? message.size()
                                                            : RG_ERROR_MESSAGE_CAPACITY - 1;
  while (n > 0 && n < message.size() && (static_cast<unsigned char>(message[n]) & 0xC0) == 0x80) {
    --n;  // never cut a UTF-8 sequence in half
  }
  message.copy(error->message, n);
  error->message[n] = '\0';
}

inline rg_str ToRgStr(std::string_view s) { return rg_str{s.data(), s.size()}; }
inline std::string_view FromRgStr(rg_str s) {
  return s.ptr == nullptr ? std::string_view() : std::string_view(s.ptr, s.len);
}

}  // namespace rg::sdk
