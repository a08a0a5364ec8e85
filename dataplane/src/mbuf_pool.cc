// SPDX-License-Identifier: BSD-3-Clause
// The bridge's mbuf pool (ringbridge/dp/mbuf_pool.h).
#include "ringbridge/dp/mbuf_pool.h"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <unistd.h>

namespace ringbridge::dp {

rte_mempool* create_mbuf_pool(const char* name, uint32_t n, uint32_t cache, uint16_t data_room,
                              int socket, bool packed, std::string* error) {
  auto fail = [&](const char* what, int rc) -> rte_mempool* {
    *error = std::string(what) + ": " + rte_strerror(rc < 0 ? -rc : rc);
    return nullptr;
  };
  if (!packed) {
    rte_mempool* mp = rte_pktmbuf_pool_create(name, n, cache, 0, data_room, socket);
    return mp != nullptr ? mp : fail("rte_pktmbuf_pool_create", rte_errno);
  }
  // rte_pktmbuf_pool_create's steps, with RTE_MEMPOOL_F_NO_IOVA_CONTIG: the populate then
  // ignores page boundaries and the objects follow one another.
  rte_mempool* mp = rte_mempool_create_empty(name, n, sizeof(rte_mbuf) + data_room, cache,
                                             sizeof(rte_pktmbuf_pool_private), socket,
                                             RTE_MEMPOOL_F_NO_IOVA_CONTIG);
  if (mp == nullptr) return fail("rte_mempool_create_empty", rte_errno);
  int rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr);
  if (rc != 0) {
    rte_mempool_free(mp);
    return fail("rte_mempool_set_ops_byname", rc);
  }
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = data_room;
  priv.mbuf_priv_size = 0;
  rte_pktmbuf_pool_init(mp, &priv);
  rc = rte_mempool_populate_default(mp);
  if (rc < 0) {
    rte_mempool_free(mp);
    return fail("rte_mempool_populate_default", rc);
  }
  rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
  return mp;
}

namespace {

struct umem_check {
  uintptr_t base;
  uint64_t frame;
  uint64_t size;
  uint64_t worst_end = 0;  // the furthest object end seen, from BASE
  uint32_t outside = 0;
};

void check_obj(rte_mempool* mp, void* arg, void* obj, unsigned /*idx*/) {
  auto* c = static_cast<umem_check*>(arg);
  const uintptr_t start = reinterpret_cast<uintptr_t>(obj) - mp->header_size;
  const uint64_t end = start < c->base ? UINT64_MAX : start - c->base + c->frame;
  if (end > c->worst_end) c->worst_end = end;
  if (end > c->size) c->outside++;
}

}  // namespace

bool pool_fits_af_xdp_umem(const rte_mempool* mp, std::string* why) {
  auto* pool = const_cast<rte_mempool*>(mp);  // rte_mempool_obj_iter does not take const
  if (pool->nb_mem_chunks != 1) {
    *why = "the pool is in " + std::to_string(pool->nb_mem_chunks) +
           " memory chunks, and AF_XDP registers only the first";
    return false;
  }
  const auto first = reinterpret_cast<uintptr_t>(STAILQ_FIRST(&pool->mem_list)->addr);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  umem_check c{};
  c.base = first & ~(page - 1);
  c.frame = rte_mempool_calc_obj_size(pool->elt_size, pool->flags, nullptr);
  c.size = uint64_t(pool->populated_size) * c.frame + (first - c.base);
  rte_mempool_obj_iter(pool, check_obj, &c);
  if (c.outside == 0) return true;
  *why = std::to_string(c.outside) + " of " + std::to_string(pool->populated_size) +
         " mbufs lie past the end of the " + std::to_string(c.size) + "-byte UMEM (the pool spans " +
         std::to_string(c.worst_end) + " bytes)";
  return false;
}

}  // namespace ringbridge::dp
