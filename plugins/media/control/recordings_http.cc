// SPDX-License-Identifier: BSD-3-Clause
// The recordings resource (ringbridge/media/recordings_http.h).
#include "ringbridge/media/recordings_http.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "ringbridge/common/log.h"

namespace ringbridge::ctl {

using json = nlohmann::json;

namespace {

// The {id} of the path as a call id; 0 when it is not one.
int64_t call_id(const http_request& req) {
  const std::string id(req.param("id"));
  char* end = nullptr;
  const long long n = std::strtoll(id.c_str(), &end, 10);
  return id.empty() || *end != '\0' || n <= 0 ? 0 : n;
}

http_response file_of(media::media_plane& media, const http_request& req, bool wav) {
  const int64_t id = call_id(req);
  const auto m = id ? media.info(id) : std::nullopt;
  const std::string& path = m ? (wav ? m->wav : m->pcap) : std::string();
  if (path.empty())
    return error_response(404, "call " + std::string(req.param("id")) + " has no " +
                                   (wav ? "WAV" : "pcap") + " recording");
  http_response r;
  r.file = path;
  r.content_type = wav ? "audio/wav" : "application/vnd.tcpdump.pcap";
  r.extra_headers = "Content-Disposition: attachment; filename=\"call-" + std::to_string(id) +
                    (wav ? ".wav" : ".pcap") + "\"\r\n";
  return r;
}

// A WAV header for a stream of unknown length (sizes at their maximum, as streaming
// players expect).
std::string stream_header(unsigned rate) {
  std::string h(44, '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) h[at + i] = static_cast<char>(v >> (8 * i));
  };
  auto put16 = [&](size_t at, uint16_t v) {
    h[at] = static_cast<char>(v);
    h[at + 1] = static_cast<char>(v >> 8);
  };
  std::memcpy(&h[0], "RIFF", 4);
  put32(4, 0xffffffffu);
  std::memcpy(&h[8], "WAVEfmt ", 8);
  put32(16, 16);
  put16(20, 1);
  put16(22, 2);
  put32(24, rate);
  put32(28, rate * 4);
  put16(32, 4);
  put16(34, 16);
  std::memcpy(&h[36], "data", 4);
  put32(40, 0xffffffffu);
  return h;
}

}  // namespace

void add_recording_routes(http_router& r, media::media_plane& media) {
  r.add({"GET", "/api/v1/calls/{id}/recording.wav", http_auth::token,
         [&media](const http_request& req) { return file_of(media, req, true); }});
  r.add({"GET", "/api/v1/calls/{id}/recording.pcap", http_auth::token,
         [&media](const http_request& req) { return file_of(media, req, false); }});
  r.add({"GET", "/api/v1/calls/{id}/recording", http_auth::token,
         [&media](const http_request& req) {
           const int64_t id = call_id(req);
           const auto m = id ? media.info(id) : std::nullopt;
           if (!m) return error_response(404, "no media known for call " + std::string(req.param("id")));
           return json_response(200, media::media_info_to_json(*m));
         }});
  r.add({"DELETE", "/api/v1/calls/{id}/recording", http_auth::token,
         [&media](const http_request& req) {
           std::string err;
           const int64_t id = call_id(req);
           if (id == 0 || !media.delete_recording(id, &err))
             return error_response(404, err.empty() ? "no such call" : err);
           RB_LOG_NOTICE("recording of call %lld deleted through the API by %s",
                         static_cast<long long>(id), req.remote.c_str());
           return no_content();
         }});
  r.add({"POST", "/api/v1/calls/{id}/recording", http_auth::token,
         [&media](const http_request& req) {
           const auto body = req.body(4096);
           if (!body) return body_too_large(4096);
           json j;
           std::string err;
           if (!parse_json_body(*body, &j, &err)) return error_response(400, err);
           if (!j.is_object() || !j.contains("record") || !j["record"].is_boolean())
             return error_response(400, "the body must be {\"record\": true} or {\"record\": false}");
           const int64_t id = call_id(req);
           if (id == 0 || !media.set_recording(id, j["record"].get<bool>(), &err))
             return error_response(409, err.empty() ? "no such call in progress" : err);
           return json_response(202, {{"id", id}, {"record", j["record"]}});
         }});
  // Live audio as one endless WAV over chunked transfer: any player that plays a WAV URL
  // plays it (curl | aplay, a browser's <audio>), 20 ms per chunk, until the call ends.
  r.add({"GET", "/api/v1/calls/{id}/live", http_auth::token, [&media](const http_request& req) {
           const int64_t id = call_id(req);
           std::shared_ptr<media::live_feed> feed = id ? media.listen(id) : nullptr;
           if (!feed) return error_response(404, "call " + std::string(req.param("id")) + " is not in progress");
           RB_LOG_NOTICE("live audio of call %lld: listener %s started",
                         static_cast<long long>(id), req.remote.c_str());
           http_response resp;
           resp.content_type = "audio/wav";
           const std::string who = req.remote;
           resp.stream = [feed, id, who](const http_response::chunk_writer& write) {
             bool header_sent = false;
             size_t frames = 0;
             for (;;) {
               std::unique_lock<std::mutex> lk(feed->mu);
               feed->cv.wait_for(lk, std::chrono::milliseconds(200),
                                 [&] { return feed->ended || !feed->frames.empty(); });
               if (feed->frames.empty()) {
                 if (feed->ended) break;
                 continue;
               }
               std::deque<std::string> out;
               out.swap(feed->frames);
               const unsigned rate = feed->rate;
               lk.unlock();
               if (!header_sent) {
                 const std::string h = stream_header(rate != 0 ? rate : 8000);
                 if (!write(h.data(), h.size())) break;
                 header_sent = true;
               }
               bool ok = true;
               for (const std::string& f : out) {
                 if (!(ok = write(f.data(), f.size()))) break;
                 frames++;
               }
               if (!ok) break;
             }
             RB_LOG_NOTICE("live audio of call %lld: listener %s stopped after %zu frames",
                           static_cast<long long>(id), who.c_str(), frames);
           };
           return resp;
         }});
}

}  // namespace ringbridge::ctl
