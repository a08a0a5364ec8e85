#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# `meson install` step: creates the "ringbridge" system user the systemd unit runs as, from
# the installed sysusers.d/ringbridge.conf. A package build (DESTDIR set) leaves it to the
# package's own sysusers handling.
#
# Usage: install-user.sh SYSUSERS_CONF
set -eu
conf=$1
if [ -n "${DESTDIR:-}" ]; then
  echo "install-user: DESTDIR is set (a package build): the package creates the user from $conf"
  exit 0
fi
if getent passwd ringbridge >/dev/null; then
  echo "install-user: user ringbridge exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-user: not root; create the service user as root: systemd-sysusers $conf" >&2
  exit 0
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
  systemd-sysusers "$conf"
else
  useradd --system --user-group --home-dir /var/lib/ringbridge --no-create-home \
    --shell /usr/sbin/nologin --comment "ringbridge SIP-aware bridge" ringbridge
fi
echo "install-user: created system user ringbridge ($(id ringbridge))"
