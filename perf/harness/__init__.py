# SPDX-License-Identifier: BSD-3-Clause
"""ringbridge perf harness: RFC 2544-style packet-rate tests of ringbridge against the Linux
kernel bridge, dpdk-testpmd and a direct veth, on this host, in network namespaces."""
