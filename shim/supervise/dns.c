/* DNS messages, as far as the stub needs them: the question of a query,
 * and an answer for a mapped name (RFC 1035). Everything else is
 * forwarded byte for byte and never parsed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <string.h>

#include "supervise.h"

#define TYPE_A 1
#define TYPE_AAAA 28
#define CLASS_IN 1
#define TTL 5 /* short: each query resolves the targets again */

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

/* A standard query with one question; its name as dotted text. */
bool dns_parse_query(const unsigned char *msg, size_t len, struct dns_query *q)
{
	if (len < 12 || (msg[2] & 0x80) || (msg[2] & 0x78) != 0 ||
	    get16(msg + 4) != 1)
		return false; /* a response, not QUERY, or not one question */
	size_t off = 12, out = 0;
	for (;;) {
		if (off >= len)
			return false;
		unsigned n = msg[off++];
		if (n == 0)
			break;
		if (n > 63 || off + n > len || out + n + 1 > NAME_MAX_LEN + 1)
			return false; /* compression never appears here */
		if (out)
			q->name[out++] = '.';
		memcpy(q->name + out, msg + off, n);
		out += n;
		off += n;
	}
	if (out == 0 || off + 4 > len || memchr(q->name, 0, out))
		return false;
	q->name[out] = '\0';
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->question_end = off + 4;
	return true;
}

static unsigned char *put_record(unsigned char *p, unsigned type,
				 const void *rdata, unsigned rdlen)
{
	p = put16(p, 0xc00c); /* the name: a pointer to the question's */
	p = put16(p, type);
	p = put16(p, CLASS_IN);
	p = put16(p, 0);
	p = put16(p, TTL);
	p = put16(p, rdlen);
	memcpy(p, rdata, rdlen);
	return p + rdlen;
}

size_t dns_answer(const unsigned char *query, const struct dns_query *q,
		  const struct synth_answer *a, unsigned char *out)
{
	size_t qlen = q->question_end;
	if (qlen + 64 > DNS_MAX)
		return 0;
	memcpy(out, query, qlen);
	out[2] = (unsigned char)(0x80 | (query[2] & 0x01)); /* QR, keep RD */
	out[3] = (unsigned char)(0x80 | a->rcode);	     /* RA */
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	unsigned char *p = out + qlen;
	if (a->rcode || q->qclass != CLASS_IN)
		return qlen;
	if (q->qtype == TYPE_A && a->has_a) {
		p = put_record(p, TYPE_A, &a->a4, 4);
		put16(out + 6, 1);
	} else if (q->qtype == TYPE_AAAA && a->has_aaaa) {
		unsigned char v6[16] = {[10] = 0xff, [11] = 0xff};
		memcpy(v6 + 12, &a->a4, 4);
		p = put_record(p, TYPE_AAAA, v6, 16);
		put16(out + 6, 1);
	}
	return (size_t)(p - out); /* other types: no data, no error */
}
