// SPDX-License-Identifier: BSD-3-Clause
// Copying a parsed SIP message into the fixed-size event record.
#include "ringbridge/sip/sip_event.h"

#include <iterator>

#include <algorithm>

#include "ringbridge/common/enum_names.h"
#include "ringbridge/common/keyed_hash.h"

namespace ringbridge::dp {

namespace {
bool fill_party(const sip::name_addr& na, sip_party* p) {
  p->present = na.present;
  if (!na.present) {
    p->display.clear();
    p->user.clear();
    p->host.clear();
    p->scheme.clear();
    p->tag.clear();
    return true;
  }
  bool ok = p->display.assign(na.display);
  ok &= p->user.assign(na.user);
  ok &= p->host.assign(na.host);
  ok &= p->scheme.assign(na.scheme);
  ok &= p->tag.assign(na.tag);
  return ok;
}
}  // namespace

void fill_event(const sip::message& m, sip_event* ev) {
  ev->is_request = m.is_request;
  ev->method = m.req_method;
  ev->cseq_method = m.cseq_method;
  ev->status = m.status;
  ev->cseq = m.cseq;
  bool ok = ev->call_id.assign(m.call_id);
  ev->call_id_hash = ev->call_id.truncated ? keyed_hash64(m.call_id) : 0;
  ok &= ev->method_token.assign(m.method_token);
  ok &= fill_party(m.from, &ev->from);
  ok &= fill_party(m.to, &ev->to);
  ok &= fill_party(m.pai, &ev->pai);
  ok &= fill_party(m.rpid, &ev->rpid);
  if (m.rpid.present)
    ok &= ev->rpid_params.assign(m.rpid.params);
  else
    ev->rpid_params.clear();
  ok &= ev->privacy.assign(m.privacy);
  ev->sdp = m.sdp.present;
  ev->pt_count = 0;
  std::fill_n(ev->pts, sizeof(ev->pts), uint8_t{0});
  if (m.sdp.present) {
    ev->sdp_family = m.sdp.conn_family;
    ev->audio_port = m.sdp.audio_port;
    ev->rtcp_port = m.sdp.rtcp_port;
    ev->telephone_event_pt = m.sdp.telephone_event_pt;
    ev->pt_count = std::min<uint8_t>(m.sdp.pt_count, 8);
    std::copy_n(m.sdp.pts, ev->pt_count, ev->pts);
    ok &= ev->media_addr.assign(m.sdp.conn_addr);
  } else {
    ev->sdp_family = 0;
    ev->audio_port = ev->rtcp_port = 0;
    ev->telephone_event_pt = -1;
    ev->media_addr.clear();
  }
  ev->truncated = !ok;
}

namespace {
const char* const k_action[] = {"none", "allow", "block", "record", "norecord"};
const char* const k_mode[] = {"drop", "busy", "decline"};
}  // namespace

const char* filter_action_name(filter_action a) {
  const auto i = static_cast<size_t>(a);
  return i < std::size(k_action) ? k_action[i] : "?";
}
const char* block_mode_name(block_mode m) {
  const auto i = static_cast<size_t>(m);
  return i < std::size(k_mode) ? k_mode[i] : "?";
}
bool parse_filter_action(std::string_view s, filter_action* o) {
  return s != "none" && parse_enum_name(s, k_action, o);
}
bool parse_block_mode(std::string_view s, block_mode* o) {
  return parse_enum_name(s, k_mode, o);
}

}  // namespace ringbridge::dp
