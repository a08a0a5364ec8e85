// SPDX-License-Identifier: BSD-3-Clause
// A filter rule's external shape: the JSON object the REST API takes and returns, which
// [[filters.rules]] in the config file reuses field for field.
//
// Owns: parsing that shape into a dp::filter_rule and rendering a stored rule back. Pure
// functions, any thread; touches nothing else (no storage, no publication).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ringbridge/filters/filter.h"
#include "ringbridge/filters/filter_store.h"

namespace ringbridge::ctl {

/// Parses a rule as the REST API and the config file give it (defaults filled in); false
/// with *error naming the field and the allowed values. *HAS_POSITION (when given) says
/// whether J set "position" (otherwise the manager places the rule).
bool parse_rule_json(const nlohmann::json& j, dp::block_mode default_mode, dp::filter_rule* r,
                     std::string* error, bool* has_position = nullptr);

/// A stored rule as GET /api/v1/filters returns it.
nlohmann::json rule_json(const stored_filter& f);

}  // namespace ringbridge::ctl
