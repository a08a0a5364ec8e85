// SPDX-License-Identifier: BSD-3-Clause
// The database the unit tests open: a path with every feature's schema part, as the
// appliance opens it (ctl::database_options()).
#pragma once

#include <string>

#include "ringbridge/ctl/store.h"
#include "ringbridge/filters/filter_store.h"
#include "ringbridge/sip/call_store.h"

namespace ringbridge::ctl {

inline database_spec test_database(const std::string& path) {
  return {path, {call_store::schema(), filter_store::schema()}};
}

}  // namespace ringbridge::ctl
