/* SPDX-License-Identifier: MIT */
/* --web.config.file: TLS and basic authentication for the metrics server,
 * in the file format of Prometheus' exporter-toolkit, so that one file
 * serves node_exporter and tcp_window_monitor alike:
 *
 *   tls_server_config:
 *     cert_file, key_file           PEM; relative to the file's directory
 *     client_auth_type              NoClientCert (default), RequestClientCert,
 *                                   RequireAnyClientCert (old name:
 *                                   RequireClientCert), VerifyClientCertIfGiven,
 *                                   RequireAndVerifyClientCert
 *     client_ca_file                PEM authorities for client certificates
 *     min_version, max_version      TLS10 TLS11 TLS12 TLS13 (default TLS12..TLS13)
 *     cipher_suites, curve_preferences, prefer_server_cipher_suites
 *                                   checked as the toolkit checks them; GnuTLS'
 *                                   own choice applies (a warning says so)
 *   http_server_config:
 *     http2                         accepted; the server speaks HTTP/1.1
 *     headers                       Strict-Transport-Security,
 *                                   X-Content-Type-Options (nosniff),
 *                                   X-Frame-Options (deny, sameorigin),
 *                                   X-XSS-Protection, Content-Security-Policy
 *   basic_auth_users:               user: bcrypt hash ($2y$, $2b$, $2a$)
 *
 * The checks are the toolkit's (exporter-toolkit 0.8, as Debian 12's
 * promtool check web-config runs them): unknown keys, bad values, a key
 * pair that does not load or match, client_ca_file without a policy that
 * asks for a certificate, a hash that is not bcrypt. Beyond them, refused
 * here: min_version above max_version, and a policy that verifies client
 * certificates without client_ca_file (both would refuse every client).
 * Every error is one line: "FILE: key.path: reason". */
#ifndef TCPWM_CLI_WEBCONFIG_H
#define TCPWM_CLI_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Go's crypto/tls ClientAuthType values, by the toolkit's names. */
typedef enum webconfig_client_auth {
    WEBCONFIG_NO_CLIENT_CERT = 0,
    WEBCONFIG_REQUEST_CLIENT_CERT,       /* asked for, not required nor verified */
    WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,   /* required, not verified */
    WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN, /* verified when sent */
    WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT,
} webconfig_client_auth;

#define WEBCONFIG_MAX_HEADERS 5

typedef struct webconfig_user {
    char *name;
    char *hash; /* bcrypt, as crypt(3) takes it */
} webconfig_user;

typedef struct webconfig {
    bool tls; /* tls_server_config has a certificate: serve HTTPS */
    /* The PEM contents, read when the file was loaded, NUL-terminated. */
    char *cert_pem, *key_pem, *ca_pem; /* ca_pem: NULL without client_ca_file */
    webconfig_client_auth client_auth;
    int min_version, max_version; /* 10..13: TLS 1.0 .. TLS 1.3 */
    bool ignored_ciphers;         /* cipher_suites or curve_preferences were given */
    webconfig_user *users;        /* basic_auth_users; none: no authentication */
    size_t n_users;
    const char *header_name[WEBCONFIG_MAX_HEADERS];
    char *header_value[WEBCONFIG_MAX_HEADERS];
    size_t n_headers;
} webconfig;

/* Read and check path, with the certificate files it names. 0, or -1 with
 * "path: key.path: reason" in err (out is then left empty). */
int webconfig_load(const char *path, webconfig *out, char *err, size_t errlen);

void webconfig_free(webconfig *c);

/* Whether a and b serve the same TLS (certificate, key, authorities,
 * policy, versions): if not, the server must restart to take b. */
bool webconfig_same_tls(const webconfig *a, const webconfig *b);

/* The GnuTLS priority string of the versions allowed. */
void webconfig_priorities(const webconfig *c, char *buf, size_t len);

/* Whether a client certificate is asked for, required, verified. */
bool webconfig_requests_cert(const webconfig *c);
bool webconfig_requires_cert(const webconfig *c);
bool webconfig_verifies_cert(const webconfig *c);

/* Whether user:password is one of basic_auth_users. An unknown user costs
 * one bcrypt run as a known one does (against a fixed dummy hash of the
 * same cost as the first user's), so that timing does not tell which
 * users exist. Thread-safe (crypt_r). */
bool webconfig_check_user(const webconfig *c, const char *user, const char *password);

#endif
