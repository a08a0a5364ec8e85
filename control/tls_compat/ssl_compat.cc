// SPDX-License-Identifier: BSD-3-Clause
// OpenSSL 3 compatibility shim for Debian 12's civetweb 1.15, loaded as "libssl.so".
//
// civetweb loads OpenSSL at run time (dlopen("libssl.so")) and looks up its functions
// by name. One of them, SSL_get_peer_certificate, is only a macro in OpenSSL 3, so the
// lookup gives a null pointer, which civetweb 1.15 calls on every HTTPS connection: the
// process dies with SIGSEGV (civetweb issue #1334). This library carries the soname
// "libssl.so" and is linked into ringbridge, so civetweb's dlopen() finds it already
// loaded; dlsym() then finds the missing function here and every other one in its
// dependency, the real libssl.so.3.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1's SSL_get_peer_certificate returned a new reference, as get1 does.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* s) {
  return SSL_get1_peer_certificate(s);
}

// ringbridge calls this before starting HTTPS, which also keeps the linker from dropping
// the library (--as-needed).
__attribute__((visibility("default"))) int ringbridge_tls_compat(void) {
  return 1;
}
}
