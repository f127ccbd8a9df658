/* SPDX-License-Identifier: MIT */
/* standalone/capfile.c against libpcap, record by record, over every
 * capture found under the paths given:
 *
 *   capfile_diff [--tshark PATH] [--skip-absent] PATH...
 *
 * Where libpcap (nanosecond precision) opens a file, the two must give
 * the same records up to libpcap's end: time (sec, nsec), caplen, len,
 * bytes, link type (pcap_datalink), and both must end there (a clean end
 * both, or an error both; capfile may read past a record libpcap refuses
 * only where it is deliberately more lenient, which is reported). Where
 * libpcap refuses the file (a pcapng whose interfaces differ) and capfile
 * reads it, tshark is the reference: frame.time_epoch, frame.cap_len and
 * frame.len of every frame. Also checks capfile_linktype_to_dlt() against
 * libpcap for every 16-bit link type. Exit 0, 1 on a difference, 77 when
 * --skip-absent is given and no path exists. */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capfile.h"

static int failures, files, refused_both, via_tshark, lenient;
static unsigned long long records;
static const char *tshark;
static char confdir[] = "/tmp/capfile-diff-ws-XXXXXX";

#define FAIL(...)                          \
    do {                                   \
        fprintf(stderr, "FAIL: " __VA_ARGS__); \
        fputc('\n', stderr);               \
        failures++;                        \
    } while (0)

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *b = realloc(buf, cap);
            if (b == NULL) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (got == 0)
            break;
        len += got;
    }
    fclose(fp);
    *n = len;
    return buf;
}

static bool is_capture(const uint8_t *b, size_t n)
{
    if (n < 4)
        return false;
    uint32_t m;
    memcpy(&m, b, 4);
    uint32_t s = __builtin_bswap32(m);
    return m == 0x0A0D0D0Au || m == 0xa1b2c3d4u || m == 0xa1b23c4du || m == 0xa1b2cd34u ||
           s == 0xa1b2c3d4u || s == 0xa1b23c4du || s == 0xa1b2cd34u;
}

/* tshark's frames against capfile's records. */
static void against_tshark(const char *path, capfile *f)
{
    char cmd[8192], q[4096];
    size_t k = 0;
    for (const char *p = path; *p && k + 5 < sizeof q; p++) {
        if (*p == '\'') {
            memcpy(q + k, "'\\''", 4);
            k += 4;
        } else {
            q[k++] = *p;
        }
    }
    q[k] = '\0';
    snprintf(cmd, sizeof cmd,
             "WIRESHARK_CONFIG_DIR=%s '%s' -n -r '%s' -T fields -e frame.time_epoch -e "
             "frame.cap_len -e frame.len -e frame.interface_id 2>/dev/null",
             confdir, tshark, q);
    FILE *ts = popen(cmd, "r");
    if (ts == NULL) {
        FAIL("%s: cannot run tshark", path);
        return;
    }
    char line[256];
    unsigned long n = 0;
    capfile_status st = CAPFILE_RECORD;
    while (fgets(line, sizeof line, ts) != NULL) {
        capfile_rec rec;
        /* time, caplen, len, interface. A record of no interface is not a
         * packet (tshark 4.0 shows some other blocks as records). */
        char *tab = strrchr(line, '\t');
        if (tab == NULL || tab[1] == '\n' || tab[1] == '\0')
            continue;
        *tab = '\0';
        n++;
        st = capfile_next(f, &rec);
        if (st != CAPFILE_RECORD) {
            FAIL("%s: tshark frame %lu, capfile: %s", path, n,
                 st == CAPFILE_END ? "end of file" : capfile_error(f));
            pclose(ts);
            return;
        }
        int64_t s = rec.sec + rec.nsec / 1000000000, ns = rec.nsec % 1000000000;
        char mine[256];
        snprintf(mine, sizeof mine, "%" PRId64 ".%09" PRId64 "\t%" PRIu32 "\t%" PRIu32, s, ns,
                 rec.caplen, rec.len);
        /* A Simple Packet Block has no time: tshark shows none. */
        const char *cmp = line[0] == '\t' ? strchr(mine, '\t') : mine;
        if (strcmp(cmp, line) != 0) {
            FAIL("%s: frame %lu: tshark %.*s, capfile %.*s", path, n, (int)strcspn(line, "\n"),
                 line, (int)strcspn(mine, "\n"), mine);
            pclose(ts);
            return;
        }
        records++;
    }
    int rc = pclose(ts);
    st = capfile_next(f, &(capfile_rec){0});
    if (st == CAPFILE_RECORD)
        FAIL("%s: capfile reads more than tshark's %lu frames (tshark status %d)", path, n, rc);
    else if (st == CAPFILE_ERROR && rc == 0)
        FAIL("%s: capfile: %s, where tshark read all %lu frames", path, capfile_error(f), n);
    via_tshark++;
}

static void one(const char *path)
{
    size_t size = 0;
    uint8_t *buf = slurp(path, &size);
    if (buf == NULL) {
        FAIL("%s: cannot read", path);
        return;
    }
    if (!is_capture(buf, size)) {
        free(buf);
        return;
    }
    files++;
    capfile_mem mem;
    capfile_io io;
    capfile *f;
    char why[256], perr[PCAP_ERRBUF_SIZE];
    capfile_mem_io(&io, &mem, buf, size);
    int crc = capfile_open(&f, &io, why, sizeof why);
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (p == NULL) {
        if (crc != 0)
            refused_both++;
        else if (tshark != NULL)
            against_tshark(path, f);
        capfile_close(f);
        free(buf);
        return;
    }
    if (crc != 0) {
        FAIL("%s: libpcap opens it, capfile: %s", path, why);
        pcap_close(p);
        free(buf);
        return;
    }
    int dlt = pcap_datalink(p);
    unsigned long n = 0;
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *d;
        capfile_rec rec;
        int pn = pcap_next_ex(p, &h, &d);
        capfile_status st = capfile_next(f, &rec);
        n++;
        if (pn == PCAP_ERROR_BREAK) {
            if (st != CAPFILE_END)
                FAIL("%s: libpcap ends before record %lu, capfile %s", path, n,
                     st == CAPFILE_RECORD ? "goes on" : capfile_error(f));
            break;
        }
        if (pn != 1) {
            if (st == CAPFILE_RECORD) {
                printf("lenient: %s: record %lu: libpcap: %s; capfile reads on%s\n", path, n,
                       pcap_geterr(p), tshark != NULL ? ", checked against tshark" : "");
                lenient++;
                if (tshark != NULL) {
                    capfile_close(f);
                    capfile_mem_io(&io, &mem, buf, size);
                    if (capfile_open(&f, &io, why, sizeof why) == 0)
                        against_tshark(path, f);
                    else
                        f = NULL;
                }
            } else if (st == CAPFILE_END) {
                FAIL("%s: record %lu: libpcap: %s; capfile: end of file", path, n, pcap_geterr(p));
            }
            break;
        }
        if (st != CAPFILE_RECORD) {
            FAIL("%s: record %lu: libpcap reads it, capfile: %s", path, n,
                 st == CAPFILE_END ? "end of file" : capfile_error(f));
            break;
        }
        if (rec.sec != (int64_t)h->ts.tv_sec || rec.nsec != (int64_t)h->ts.tv_usec ||
            rec.caplen != h->caplen || rec.len != h->len || rec.dlt != dlt ||
            (h->caplen > 0 && memcmp(rec.data, d, h->caplen) != 0)) {
            FAIL("%s: record %lu: libpcap %lld.%09lld caplen %u len %u dlt %d, capfile %" PRId64
                 ".%09" PRId64 " caplen %" PRIu32 " len %" PRIu32 " dlt %d%s",
                 path, n, (long long)h->ts.tv_sec, (long long)h->ts.tv_usec, h->caplen, h->len,
                 dlt, rec.sec, rec.nsec, rec.caplen, rec.len, rec.dlt,
                 h->caplen == rec.caplen && memcmp(rec.data, d, h->caplen) != 0 ? " (bytes differ)"
                                                                                 : "");
            break;
        }
        records++;
    }
    pcap_close(p);
    capfile_close(f);
    free(buf);
}

static void walk(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (S_ISREG(st.st_mode)) {
        one(path);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        return;
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
            walk(sub);
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
}

/* Every 16-bit link type in a pcap file header: the DLT_ libpcap reports. */
static void linktypes(void)
{
    for (uint32_t lt = 0; lt <= 0xFFFF; lt++) {
        uint32_t hdr[6] = {0xa1b2c3d4u, 2u | (4u << 16), 0, 0, 65535, lt};
        char err[PCAP_ERRBUF_SIZE];
        FILE *fp = fmemopen(hdr, sizeof hdr, "rb");
        pcap_t *p = fp != NULL ? pcap_fopen_offline(fp, err) : NULL;
        if (p == NULL) {
            FAIL("libpcap refuses link type %" PRIu32 ": %s", lt, fp ? err : "fmemopen");
            if (fp != NULL)
                fclose(fp);
            return;
        }
        if (pcap_datalink(p) != capfile_linktype_to_dlt(lt))
            FAIL("link type %" PRIu32 ": libpcap DLT %d, capfile %d", lt, pcap_datalink(p),
                 capfile_linktype_to_dlt(lt));
        pcap_close(p);
    }
}

int main(int argc, char **argv)
{
    bool skip_absent = false, any = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--skip-absent") == 0)
            skip_absent = true;
        else if (strcmp(argv[i], "--tshark") == 0 && i + 1 < argc)
            tshark = argv[++i];
        else {
            fprintf(stderr, "usage: capfile_diff [--tshark PATH] [--skip-absent] PATH...\n");
            return 2;
        }
    }
    if (tshark != NULL && mkdtemp(confdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    linktypes();
    for (; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0)
            any = true;
        walk(argv[i]);
    }
    if (tshark != NULL)
        rmdir(confdir);
    if (!any && skip_absent) {
        printf("capfile_diff: no path exists; skipped\n");
        return 77;
    }
    printf("capfile_diff: %d captures, %llu records equal; %d refused by both, %d checked against "
           "tshark, %d read further than libpcap; %d failures\n",
           files, records, refused_both, via_tshark, lenient, failures);
    return failures ? 1 : 0;
}
