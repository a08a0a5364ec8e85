#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Applies the process-level restrictions of a systemd unit to itself, then execs a command.

Used by service.py to run ringbridge the way deploy/ringbridge.service would, on a machine
without systemd. Runs after setpriv has switched user and capabilities (and set
no_new_privs, which an unprivileged process needs to load a seccomp filter).

  sandbox.py [--umask OCTAL] [--mdwe] [--syscalls FILE] [--families LIST] -- CMD ARGS...

  --umask      UMask=
  --mdwe       MemoryDenyWriteExecute= (the kernel's PR_SET_MDWE: no writable+executable
               mappings, no making a writable mapping executable)
  --syscalls   SystemCallFilter= as an allow list (one name per line, groups already
               expanded); every other system call fails with EPERM (SystemCallErrorNumber=)
  --families   RestrictAddressFamilies=: comma-separated AF_* names; socket(2) with any
               other family fails with EAFNOSUPPORT, as under systemd
"""
import ctypes
import errno
import os
import socket
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4


def scmp_act_errno(e):
    return 0x00050000 | (e & 0xFFFF)


class ScmpArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def load_seccomp(names, families):
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ScmpArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(scmp_act_errno(errno.EPERM))
    if not ctx:
        sys.exit("sandbox: seccomp_init failed")
    for name in names:
        if families is not None and name == "socket":
            continue
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            continue  # newer than this libseccomp, or not on this architecture
        rc = lib.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 0, None)
        if rc != 0:
            sys.exit(f"sandbox: seccomp rule for {name}: {os.strerror(-rc)}")
    if families is not None:
        nr = lib.seccomp_syscall_resolve_name(b"socket")
        for fam in families:
            cmp = ScmpArgCmp(0, SCMP_CMP_EQ, fam, 0)
            rc = lib.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, ctypes.byref(cmp))
            if rc != 0:
                sys.exit(f"sandbox: seccomp rule for socket({fam}): {os.strerror(-rc)}")
        # Any other family: EAFNOSUPPORT rather than the default EPERM.
        for fam in range(0, 46):
            if fam in families:
                continue
            cmp = ScmpArgCmp(0, SCMP_CMP_EQ, fam, 0)
            lib.seccomp_rule_add_array(ctx, scmp_act_errno(errno.EAFNOSUPPORT), nr, 1,
                                       ctypes.byref(cmp))
    rc = lib.seccomp_load(ctx)
    if rc != 0:
        sys.exit(f"sandbox: seccomp_load: {os.strerror(-rc)}")


def main(argv):
    umask, mdwe, syscalls, families = None, False, None, None
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--umask":
            umask = int(argv.pop(0), 8)
        elif opt == "--mdwe":
            mdwe = True
        elif opt == "--syscalls":
            with open(argv.pop(0)) as f:
                syscalls = [l.strip() for l in f if l.strip()]
        elif opt == "--families":
            families = [getattr(socket, n) if hasattr(socket, n) else {"AF_XDP": 44}[n]
                        for n in argv.pop(0).split(",")]
        else:
            sys.exit(__doc__)
    if not argv or len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1:]
    if umask is not None:
        os.umask(umask)
    if mdwe:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
            sys.exit("sandbox: prctl(PR_SET_MDWE): " + os.strerror(ctypes.get_errno()))
    if syscalls is not None:
        load_seccomp(syscalls, families)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
