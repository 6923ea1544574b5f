/* wire: watches the TCP payload crossing one lab interface for a byte string. */
#include "tests/lab/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WIRE_MARKER_MAX 64
#define WIRE_FRAME_MAX (256 * 1024) /* veths hand over segments of up to 64 KiB and more */
#define WIRE_POLL_MS 100

struct wire_watch {
	int fd;
	uint16_t lo, hi;
	char marker[WIRE_MARKER_MAX + 1];
	size_t marker_len;
	/* The tail of the payload seen so far, so a marker split between segments is found. */
	unsigned char carry[WIRE_MARKER_MAX];
	size_t carry_len;
	uint64_t bytes;
	bool found, failed;
	volatile int stop;
	pthread_t thread;
	unsigned char *frame;
};

/* The TCP payload of Ethernet frame @f (@n bytes) when a port is in range, or NULL. */
static const unsigned char *tcp_payload(const struct wire_watch *w, const unsigned char *f,
					size_t n, size_t *len)
{
	if (n < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) /* IPv4 only: the lab's */
		return NULL;
	const unsigned char *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, total = (size_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || 14 + total > n || total < ihl + 20)
		return NULL;
	const unsigned char *tcp = ip + ihl;
	uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]), dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (!((sport >= w->lo && sport <= w->hi) || (dport >= w->lo && dport <= w->hi)) ||
	    doff < 20 || ihl + doff > total)
		return NULL;
	*len = total - ihl - doff;
	return tcp + doff;
}

/* Looks for the marker in @p (@n bytes) joined to the carry, then keeps the new tail. */
static void scan(struct wire_watch *w, const unsigned char *p, size_t n)
{
	size_t keep = w->marker_len - 1;
	unsigned char joint[2 * WIRE_MARKER_MAX];
	size_t head = n < keep ? n : keep;

	w->bytes += n;
	if (w->found)
		return;
	memcpy(joint, w->carry, w->carry_len);
	memcpy(joint + w->carry_len, p, head);
	if (memmem(joint, w->carry_len + head, w->marker, w->marker_len) ||
	    memmem(p, n, w->marker, w->marker_len)) {
		w->found = true;
		return;
	}
	if (n >= keep) {
		memcpy(w->carry, p + n - keep, keep);
		w->carry_len = keep;
	} else {
		size_t total = w->carry_len + n;
		size_t drop = total > keep ? total - keep : 0;
		memmove(joint, joint + drop, total - drop);
		memcpy(w->carry, joint, total - drop);
		w->carry_len = total - drop;
	}
}

static void *watch_thread(void *arg)
{
	struct wire_watch *w = arg;
	struct pollfd pfd = {.fd = w->fd, .events = POLLIN};

	while (!w->stop) {
		int r = poll(&pfd, 1, WIRE_POLL_MS);
		if (r < 0 && errno != EINTR) {
			w->failed = true;
			break;
		}
		if (r <= 0)
			continue;
		ssize_t n = recv(w->fd, w->frame, WIRE_FRAME_MAX, MSG_DONTWAIT);
		size_t len = 0;
		const unsigned char *p = n > 0 ? tcp_payload(w, w->frame, (size_t)n, &len) : NULL;
		if (p && len)
			scan(w, p, len);
	}
	return NULL;
}

int wire_watch_start(const char *ifname, uint16_t port_lo, uint16_t port_hi, const char *marker,
		     struct wire_watch **out)
{
	struct wire_watch *w = calloc(1, sizeof(*w));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	size_t mlen = strlen(marker);

	if (!w || mlen < 2 || mlen > WIRE_MARKER_MAX || !(w->frame = malloc(WIRE_FRAME_MAX)))
		goto fail;
	w->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (w->fd < 0 || !sll.sll_ifindex || bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "wire: cannot watch %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	int rcvbuf = 8 << 20;
	(void)setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	w->lo = port_lo;
	w->hi = port_hi;
	memcpy(w->marker, marker, mlen + 1);
	w->marker_len = mlen;
	if (pthread_create(&w->thread, NULL, watch_thread, w) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	if (w && w->fd > 0)
		close(w->fd);
	if (w)
		free(w->frame);
	free(w);
	return -1;
}

int wire_watch_stop(struct wire_watch *w, uint64_t *bytes, bool *found)
{
	int ret;

	w->stop = 1;
	pthread_join(w->thread, NULL);
	*bytes = w->bytes;
	*found = w->found;
	ret = w->failed ? -1 : 0;
	close(w->fd);
	free(w->frame);
	free(w);
	return ret;
}
