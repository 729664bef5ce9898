// RFC 3339 UTC timestamps with milliseconds ("2026-11-21T08:30:00.123Z") for labels and the
// audit trail. Internal to rg::compliance.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace rg::compliance::detail {

inline std::string FormatUtc(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(time.time_since_epoch());
  const sys_days day = floor<days>(sys_time<milliseconds>(ms));
  const year_month_day date(day);
  const milliseconds in_day = ms - duration_cast<milliseconds>(day.time_since_epoch());
  const hh_mm_ss<milliseconds> hms(in_day);
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buffer;
}

/// The UTC calendar day of `time`.
inline std::chrono::year_month_day UtcDay(std::chrono::system_clock::time_point time) {
  return std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(time));
}

}  // namespace rg::compliance::detail
