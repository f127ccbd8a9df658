/* SPDX-License-Identifier: MIT */
/* pcap_floor: the floor of the benchmark. Reads a capture the way
 * tcp_window_monitor does (libpcap, nanosecond precision, pcap_next_ex)
 * and does nothing with the packets but touch each one's caplen, first
 * byte and timestamp, so that the loop cannot be optimized away. Nothing a
 * replay through libpcap does can be faster than this.
 *
 * Usage: pcap_floor [-c COUNT] FILE
 * Prints one line: packets=N bytes=CAPLEN_SUM seconds=S pps=P check=X
 * offset=O, where O is the file offset after the last packet read: with
 * -c (stop after COUNT packets), `head -c O FILE` is a valid capture of
 * the first COUNT packets. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* libpcap's headers use u_int / u_char */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    struct timespec t0, t1;
    uint64_t packets = 0, bytes = 0, check = 0, limit = UINT64_MAX;
    int rc = 1, c;

    while ((c = getopt(argc, argv, "c:")) != -1) {
        char *end;
        if (c != 'c' || (limit = strtoull(optarg, &end, 10)) == 0 || *end != '\0') {
            fprintf(stderr, "Usage: pcap_floor [-c COUNT] FILE\n");
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "Usage: pcap_floor [-c COUNT] FILE\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errbuf[0] = '\0';
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[optind], PCAP_TSTAMP_PRECISION_NANO,
                                                        errbuf);
    if (p == NULL) {
        fprintf(stderr, "pcap_floor: %s\n", errbuf);
        return 1;
    }
    while (packets < limit && (rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        check += (uint64_t)h->ts.tv_usec ^ (h->caplen ? data[0] : 0u);
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "pcap_floor: %s\n", pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    long offset = ftell(pcap_file(p));
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("packets=%llu bytes=%llu seconds=%.6f pps=%.0f check=%llx offset=%ld\n",
           (unsigned long long)packets, (unsigned long long)bytes, secs,
           (double)packets / (secs > 0 ? secs : 1e-9), (unsigned long long)check, offset);
    return 0;
}
