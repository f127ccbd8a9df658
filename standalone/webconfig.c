/* SPDX-License-Identifier: MIT */
#include "webconfig.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <yaml.h>

/* Bigger files are not web configurations (certificates included). */
#define WEBCONFIG_FILE_LIMIT (1024 * 1024)

/* ---- Reading ------------------------------------------------------------ */

/* The whole of a file, NUL-terminated. NULL with errno on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *p;

            if (cap >= WEBCONFIG_FILE_LIMIT) {
                errno = EFBIG;
                goto fail;
            }
            cap = cap ? cap * 2 : 8192;
            p = realloc(buf, cap + 1);
            if (p == NULL)
                goto fail;
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                errno = EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    if (buf == NULL && (buf = malloc(1)) == NULL)
        return NULL;
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* The state of one load: the file, the document, where errors go. */
typedef struct loader {
    const char *path;
    char dir[4096]; /* the file's directory: relative names start there */
    yaml_document_t doc;
    char *err;
    size_t errlen;
} loader;

static int fail(loader *l, const char *key, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(l->err, l->errlen, "%s: %s%s%s", l->path, key, key[0] ? ": " : "", why);
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain null (empty, ~, null) reads as the empty value, as Go's YAML
 * decoder leaves the field at its zero value. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return n->data.scalar.length == 0 || strcmp(scalar(n), "~") == 0 ||
           strcmp(scalar(n), "null") == 0 || strcmp(scalar(n), "Null") == 0 ||
           strcmp(scalar(n), "NULL") == 0;
}

/* A string value: any scalar (YAML 1.1 turns 1 or true into the string
 * "1", "true" for a string field), or null. */
static int get_string(loader *l, const char *key, yaml_node_t *n, const char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(l, key, "expected a string");
    *out = is_null(n) ? "" : scalar(n);
    return 0;
}

/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
static int get_bool(loader *l, const char *key, yaml_node_t *n, bool *out)
{
    static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                                      "on", "On", "ON"};
    static const char *const no[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE",
                                     "off", "Off", "OFF"};

    if (n->type == YAML_SCALAR_NODE && is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcmp(scalar(n), yes[i]) == 0) {
                *out = true;
                return 0;
            }
            if (strcmp(scalar(n), no[i]) == 0) {
                *out = false;
                return 0;
            }
        }
    }
    return fail(l, key, "expected true or false");
}

/* Each key of a mapping once; fn called with key and value. A null value
 * is an empty mapping. */
typedef int (*pair_fn)(loader *l, void *ctx, const char *key, yaml_node_t *value);

static int each_pair(loader *l, const char *where, yaml_node_t *map, pair_fn fn, void *ctx)
{
    if (map->type == YAML_SCALAR_NODE && is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return fail(l, where, "expected a mapping");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);

        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
            return fail(l, where, "expected a mapping with string keys");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(&l->doc, q->key);
            if (k2 != NULL && k2->type == YAML_SCALAR_NODE && strcmp(scalar(k2), scalar(k)) == 0)
                return fail(l, where, "key \"%s\" given twice (line %lu)", scalar(k),
                            (unsigned long)k->start_mark.line + 1);
        }
        if (fn(l, ctx, scalar(k), v) != 0)
            return -1;
    }
    return 0;
}

/* A file name as the toolkit takes it: relative to the config's
 * directory. "" stays "". Returns a malloc'ed copy or NULL. */
static char *join_dir(const loader *l, const char *name)
{
    size_t n = strlen(l->dir) + strlen(name) + 2;
    char *s = malloc(n);

    if (s == NULL)
        return NULL;
    if (name[0] == '/' || name[0] == '\0' || l->dir[0] == '\0')
        snprintf(s, n, "%s", name);
    else
        snprintf(s, n, "%s/%s", l->dir, name);
    return s;
}

/* ---- tls_server_config ---------------------------------------------------- */

typedef struct tls_keys {
    const char *cert_file, *key_file, *client_auth, *client_ca_file;
    bool auth_given, versions_given;
} tls_keys;

static int tls_version(loader *l, const char *key, yaml_node_t *v, int *out)
{
    const char *s;

    if (get_string(l, key, v, &s) != 0)
        return -1;
    if (strlen(s) == 5 && strncmp(s, "TLS1", 4) == 0 && s[4] >= '0' && s[4] <= '3') {
        *out = 10 + (s[4] - '0');
        return 0;
    }
    return fail(l, key, "unknown TLS version \"%s\" (TLS10, TLS11, TLS12 or TLS13)", s);
}

/* Go's crypto/tls suites (tls.CipherSuites(), Go 1.19) and curves: the
 * names the toolkit accepts. */
static bool known_cipher(const char *s)
{
    static const char *const names[] = {
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

static bool known_curve(const char *s)
{
    return strcmp(s, "CurveP256") == 0 || strcmp(s, "CurveP384") == 0 ||
           strcmp(s, "CurveP521") == 0 || strcmp(s, "X25519") == 0;
}

static int name_list(loader *l, const char *key, yaml_node_t *v, bool (*known)(const char *),
                     const char *what)
{
    if (v->type == YAML_SCALAR_NODE && is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(l, key, "expected a list");
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
        yaml_node_t *n = yaml_document_get_node(&l->doc, *i);
        const char *s;

        if (n == NULL || get_string(l, key, n, &s) != 0)
            return -1;
        if (!known(s))
            return fail(l, key, "unknown %s \"%s\"", what, s);
    }
    return 0;
}

typedef struct tls_ctx {
    webconfig *c;
    tls_keys *k;
} tls_ctx;

static int tls_pair(loader *l, void *ctx, const char *key, yaml_node_t *v)
{
    tls_ctx *t = ctx;
    char path[96];

    snprintf(path, sizeof path, "tls_server_config.%.60s", key);
    if (strcmp(key, "cert_file") == 0)
        return get_string(l, path, v, &t->k->cert_file);
    if (strcmp(key, "key_file") == 0)
        return get_string(l, path, v, &t->k->key_file);
    if (strcmp(key, "client_ca_file") == 0)
        return get_string(l, path, v, &t->k->client_ca_file);
    if (strcmp(key, "client_auth_type") == 0)
        return get_string(l, path, v, &t->k->client_auth);
    if (strcmp(key, "min_version") == 0)
        return tls_version(l, path, v, &t->c->min_version);
    if (strcmp(key, "max_version") == 0)
        return tls_version(l, path, v, &t->c->max_version);
    if (strcmp(key, "prefer_server_cipher_suites") == 0) {
        bool b;
        return get_bool(l, path, v, &b);
    }
    if (strcmp(key, "cipher_suites") == 0 || strcmp(key, "curve_preferences") == 0) {
        bool ciphers = key[1] == 'i';

        if (name_list(l, path, v, ciphers ? known_cipher : known_curve,
                      ciphers ? "cipher suite" : "curve") != 0)
            return -1;
        if (v->type == YAML_SEQUENCE_NODE &&
            v->data.sequence.items.top > v->data.sequence.items.start)
            t->c->ignored_ciphers = true;
        return 0;
    }
    return fail(l, path, "unknown key of tls_server_config");
}

static int client_auth_value(loader *l, const char *s, webconfig_client_auth *out)
{
    static const struct {
        const char *name;
        webconfig_client_auth v;
    } names[] = {
        {"", WEBCONFIG_NO_CLIENT_CERT},
        {"NoClientCert", WEBCONFIG_NO_CLIENT_CERT},
        {"RequestClientCert", WEBCONFIG_REQUEST_CLIENT_CERT},
        {"RequireAnyClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT},
        {"RequireClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT}, /* the toolkit's old name */
        {"VerifyClientCertIfGiven", WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN},
        {"RequireAndVerifyClientCert", WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].v;
            return 0;
        }
    }
    return fail(l, "tls_server_config.client_auth_type",
                "unknown value \"%s\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                "VerifyClientCertIfGiven or RequireAndVerifyClientCert)",
                s);
}

/* Read a PEM file named in the config. */
static int read_pem(loader *l, const char *key, const char *name, char **out)
{
    char *path = join_dir(l, name);
    int rc = 0;

    if (path == NULL)
        return fail(l, key, "out of memory");
    *out = slurp(path, NULL);
    if (*out == NULL)
        rc = fail(l, key, "cannot read %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

/* The toolkit's checks: a certificate and a key that load and match, an
 * authority file that reads, a policy when there are authorities. */
static int check_tls(loader *l, webconfig *c, const tls_keys *k)
{
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t cert, key;
    int rc;

    if (client_auth_value(l, k->client_auth ? k->client_auth : "", &c->client_auth) != 0)
        return -1;
    if ((k->cert_file == NULL || !k->cert_file[0]) && (k->key_file == NULL || !k->key_file[0]) &&
        (k->client_auth == NULL || !k->client_auth[0]) &&
        (k->client_ca_file == NULL || !k->client_ca_file[0]))
        return 0; /* no TLS: plain HTTP, perhaps with basic auth */
    if (k->cert_file == NULL || !k->cert_file[0])
        return fail(l, "tls_server_config.cert_file", "missing (key_file needs it)");
    if (k->key_file == NULL || !k->key_file[0])
        return fail(l, "tls_server_config.key_file", "missing (cert_file needs it)");
    if (read_pem(l, "tls_server_config.cert_file", k->cert_file, &c->cert_pem) != 0 ||
        read_pem(l, "tls_server_config.key_file", k->key_file, &c->key_pem) != 0)
        return -1;
    if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS)
        return fail(l, "tls_server_config", "out of memory");
    cert.data = (unsigned char *)c->cert_pem;
    cert.size = (unsigned)strlen(c->cert_pem);
    key.data = (unsigned char *)c->key_pem;
    key.size = (unsigned)strlen(c->key_pem);
    rc = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(cred);
    if (rc < 0)
        return fail(l, "tls_server_config.cert_file",
                    "cannot load the certificate with key_file: %s", gnutls_strerror(rc));
    if (k->client_ca_file != NULL && k->client_ca_file[0]) {
        if (c->client_auth == WEBCONFIG_NO_CLIENT_CERT)
            return fail(l, "tls_server_config.client_ca_file",
                        "given without a client_auth_type that asks for certificates");
        if (read_pem(l, "tls_server_config.client_ca_file", k->client_ca_file, &c->ca_pem) != 0)
            return -1;
    }
    if (c->min_version > c->max_version)
        return fail(l, "tls_server_config.min_version",
                    "TLS1%d is above max_version TLS1%d: no client could connect",
                    c->min_version - 10, c->max_version - 10);
    c->tls = true;
    return 0;
}

/* ---- http_server_config ---------------------------------------------------- */

static int header_pair(loader *l, void *ctx, const char *key, yaml_node_t *v)
{
    /* The toolkit's list, on purpose short: the same headers everywhere in
     * the Prometheus ecosystem; two take only well-known values. */
    static const struct {
        const char *name;
        const char *values[3];
    } allowed[] = {
        {"Strict-Transport-Security", {NULL}},
        {"X-Content-Type-Options", {"nosniff", NULL}},
        {"X-Frame-Options", {"deny", "sameorigin", NULL}},
        {"X-XSS-Protection", {NULL}},
        {"Content-Security-Policy", {NULL}},
    };
    webconfig *c = ctx;
    char path[96];
    const char *s;

    snprintf(path, sizeof path, "http_server_config.headers.%s", key);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strcmp(key, allowed[i].name) != 0)
            continue;
        if (get_string(l, path, v, &s) != 0)
            return -1;
        if (allowed[i].values[0] != NULL) {
            bool ok = false;
            for (size_t j = 0; allowed[i].values[j] != NULL; j++)
                ok = ok || strcmp(s, allowed[i].values[j]) == 0;
            if (!ok)
                return fail(l, path, "\"%s\" is not one of %s%s%s", s, allowed[i].values[0],
                            allowed[i].values[1] ? ", " : "",
                            allowed[i].values[1] ? allowed[i].values[1] : "");
        }
        if (s[0] == '\0')
            return 0; /* blank: unset */
        if (strpbrk(s, "\r\n") != NULL)
            return fail(l, path, "a header value cannot span lines");
        c->header_name[c->n_headers] = allowed[i].name;
        c->header_value[c->n_headers] = strdup(s);
        if (c->header_value[c->n_headers++] == NULL)
            return fail(l, path, "out of memory");
        return 0;
    }
    return fail(l, path, "this header cannot be configured (%s)",
                "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
                "X-XSS-Protection, Content-Security-Policy");
}

static int http_pair(loader *l, void *ctx, const char *key, yaml_node_t *v)
{
    char path[96];

    snprintf(path, sizeof path, "http_server_config.%.60s", key);
    if (strcmp(key, "http2") == 0) {
        bool b;
        return get_bool(l, "http_server_config.http2", v, &b);
    }
    if (strcmp(key, "headers") == 0)
        return each_pair(l, "http_server_config.headers", v, header_pair, ctx);
    return fail(l, path, "unknown key of http_server_config (http2, headers)");
}

/* ---- basic_auth_users ------------------------------------------------------ */

/* A bcrypt hash as crypt(3) writes it: $2a$, $2b$, $2x$ or $2y$, a cost
 * of 04 to 31, then 53 characters of bcrypt's base64 (22 of salt, 31 of
 * hash). Returns the cost, or -1 with the reason in why. */
static int bcrypt_cost(const char *h, const char **why)
{
    static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int cost;

    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || strchr("abxy", h[2]) == NULL ||
        h[3] != '$' || h[6] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') {
        *why = "not a bcrypt hash ($2y$10$ and 53 more characters, as htpasswd -nBC 10 "
               "writes it)";
        return -1;
    }
    cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31) {
        *why = "bcrypt cost outside 4..31";
        return -1;
    }
    if (strspn(h + 7, b64) != 53) {
        *why = "not a bcrypt hash (a character outside bcrypt's base64)";
        return -1;
    }
    return cost;
}

static int user_pair(loader *l, void *ctx, const char *key, yaml_node_t *v)
{
    webconfig *c = ctx;
    char path[96];
    const char *hash, *why = NULL;
    webconfig_user *u;

    snprintf(path, sizeof path, "basic_auth_users.%.60s", key);
    if (get_string(l, path, v, &hash) != 0)
        return -1;
    if (bcrypt_cost(hash, &why) < 0)
        return fail(l, path, "%s", why);
    u = realloc(c->users, (c->n_users + 1) * sizeof *u);
    if (u == NULL)
        return fail(l, path, "out of memory");
    c->users = u;
    u[c->n_users].name = strdup(key);
    u[c->n_users].hash = strdup(hash);
    c->n_users++;
    if (u[c->n_users - 1].name == NULL || u[c->n_users - 1].hash == NULL)
        return fail(l, path, "out of memory");
    return 0;
}

/* ---- The document ------------------------------------------------------- */

typedef struct top_ctx {
    webconfig *c;
    tls_keys k;
} top_ctx;

static int top_pair(loader *l, void *ctx, const char *key, yaml_node_t *v)
{
    top_ctx *t = ctx;

    if (strcmp(key, "tls_server_config") == 0) {
        tls_ctx tc = {t->c, &t->k};
        return each_pair(l, key, v, tls_pair, &tc);
    }
    if (strcmp(key, "http_server_config") == 0)
        return each_pair(l, key, v, http_pair, t->c);
    if (strcmp(key, "basic_auth_users") == 0)
        return each_pair(l, key, v, user_pair, t->c);
    return fail(l, key, "unknown key (tls_server_config, http_server_config, "
                        "basic_auth_users)");
}

int webconfig_load(const char *path, webconfig *out, char *err, size_t errlen)
{
    loader l = {.path = path, .err = err, .errlen = errlen};
    top_ctx t = {.c = out};
    yaml_parser_t parser;
    yaml_node_t *root;
    size_t len;
    char *text, *slash;
    int rc;

    memset(out, 0, sizeof *out);
    out->min_version = 12; /* the toolkit's defaults */
    out->max_version = 13;
    snprintf(l.dir, sizeof l.dir, "%s", path);
    slash = strrchr(l.dir, '/');
    if (slash == NULL)
        l.dir[0] = '\0';
    else
        slash[slash == l.dir ? 1 : 0] = '\0';

    text = slurp(path, &len);
    if (text == NULL)
        return fail(&l, "", "cannot read it: %s", strerror(errno));
    if (!yaml_parser_initialize(&parser)) {
        free(text);
        return fail(&l, "", "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &l.doc)) {
        rc = fail(&l, "", "not YAML: %s at line %lu", parser.problem ? parser.problem : "error",
                  (unsigned long)parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        free(text);
        return rc;
    }
    yaml_parser_delete(&parser);
    free(text);

    root = yaml_document_get_root_node(&l.doc);
    rc = 0;
    if (root != NULL && !(root->type == YAML_SCALAR_NODE && is_null(root))) {
        if (root->type != YAML_MAPPING_NODE)
            rc = fail(&l, "", "expected a mapping of tls_server_config, http_server_config, "
                              "basic_auth_users");
        else
            rc = each_pair(&l, "", root, top_pair, &t);
    }
    if (rc == 0)
        rc = check_tls(&l, out, &t.k);
    yaml_document_delete(&l.doc);
    if (rc != 0)
        webconfig_free(out);
    return rc;
}

void webconfig_free(webconfig *c)
{
    free(c->cert_pem);
    free(c->key_pem);
    free(c->ca_pem);
    for (size_t i = 0; i < c->n_users; i++) {
        free(c->users[i].name);
        free(c->users[i].hash);
    }
    free(c->users);
    for (size_t i = 0; i < c->n_headers; i++)
        free(c->header_value[i]);
    memset(c, 0, sizeof *c);
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool webconfig_same_tls(const webconfig *a, const webconfig *b)
{
    return a->tls == b->tls && same_str(a->cert_pem, b->cert_pem) &&
           same_str(a->key_pem, b->key_pem) && same_str(a->ca_pem, b->ca_pem) &&
           a->client_auth == b->client_auth && a->min_version == b->min_version &&
           a->max_version == b->max_version;
}

void webconfig_priorities(const webconfig *c, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "NORMAL:-VERS-ALL");

    for (int v = c->min_version; v <= c->max_version && at < len; v++)
        at += (size_t)snprintf(buf + at, len - at, ":+VERS-TLS1.%d", v - 10);
}

bool webconfig_requests_cert(const webconfig *c)
{
    return c->client_auth != WEBCONFIG_NO_CLIENT_CERT;
}

bool webconfig_requires_cert(const webconfig *c)
{
    return c->client_auth == WEBCONFIG_REQUIRE_ANY_CLIENT_CERT ||
           c->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

bool webconfig_verifies_cert(const webconfig *c)
{
    return c->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
           c->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

bool webconfig_check_user(const webconfig *c, const char *user, const char *password)
{
    /* A valid bcrypt setting whose hash matches no password one can type
     * (the hash part is not what bcrypt would give): the work is done,
     * the comparison fails. Its cost is that of the first user, so an
     * unknown name costs what a known one does. */
    char dummy[61] = "$2b$10$CCCCCCCCCCCCCCCCCCCCC.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.";
    const char *hash = NULL;
    struct crypt_data *cd;
    bool ok = false;

    for (size_t i = 0; i < c->n_users; i++)
        if (strcmp(c->users[i].name, user) == 0)
            hash = c->users[i].hash;
    if (c->n_users > 0) {
        dummy[4] = c->users[0].hash[4];
        dummy[5] = c->users[0].hash[5];
    }
    cd = calloc(1, sizeof *cd); /* 32 KiB: not on a thread's stack */
    if (cd == NULL)
        return false;
    const char *got = crypt_r(password, hash != NULL ? hash : dummy, cd);
    if (got != NULL && got[0] != '*' && hash != NULL && strlen(got) == strlen(hash)) {
        /* Constant time: the hash is public, but the habit is cheap. */
        unsigned diff = 0;
        for (size_t i = 0; hash[i] != '\0'; i++)
            diff |= (unsigned)(got[i] ^ hash[i]);
        ok = diff == 0;
    }
    free(cd);
    return ok;
}
