/* x509ext.c: see x509ext.h. */
#define _DEFAULT_SOURCE	/* inet_ntop */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "x509ext.h"

#define DER_INTEGER		0x02
#define DER_SEQUENCE		0x30
#define DER_OID			0x06
#define DER_BOOLEAN		0x01
#define DER_OCTET_STRING	0x04
#define DER_BIT_STRING		0x03
#define DER_CTX_EXTENSIONS	0xa3	/* tbsCertificate [3] EXPLICIT Extensions */
#define DER_GN_IPADDRESS	0x87	/* GeneralName [7] IMPLICIT OCTET STRING */
#define DER_SEC1_PUBLIC		0xa1	/* ECPrivateKey [1] EXPLICIT BIT STRING */
#define DER_PKCS8_PUBLIC	0x81	/* OneAsymmetricKey [1] IMPLICIT BIT STRING */

/* 2.5.29.17 subjectAltName and 2.5.29.15 keyUsage, DER-encoded OID contents. */
static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 };
static const unsigned char oid_ku[] = { 0x55, 0x1d, 0x0f };

/* One DER element: its tag and contents. */
struct der {
	unsigned		 tag;
	const unsigned char	*val;
	size_t			 len;
};

/*
 * Reads the element at *p, which must end by end, and advances *p past it.
 * Returns 0, or -1 when the bytes are not DER we accept: multi-byte tags, indefinite or
 * over-long lengths, or contents running past end.
 */
static int
der_next(const unsigned char **p, const unsigned char *end, struct der *e)
{
	const unsigned char	*q = *p;
	size_t			 avail, len, n;

	if (q >= end || end - q < 2)
		return -1;
	e->tag = q[0];
	if ((e->tag & 0x1f) == 0x1f)
		return -1;
	len = q[1];
	q += 2;
	if (len & 0x80) {
		n = len & 0x7f;
		/* 0 is the indefinite form (BER only); 4 bytes already exceed any certificate. */
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		len = 0;
		while (n-- > 0)
			len = (len << 8) | *q++;
	}
	avail = (size_t)(end - q);
	if (len > avail)
		return -1;
	e->val = q;
	e->len = len;
	*p = q + len;
	return 0;
}

/*
 * Finds the extension whose OID is oid in certificate der[0..len) and points *val at
 * its extnValue contents. Returns 1 when found, 0 when absent, -1 when malformed or
 * present twice (RFC 5280 4.2: a certificate must not include an extension twice).
 */
static int
ext_find(const unsigned char *der, size_t len, const unsigned char *oid, size_t oidlen,
    struct der *val)
{
	const unsigned char	*p = der, *end = der + len, *q, *qend;
	struct der		 cert, tbs, e, exts, ext, id, f;
	int			 found = 0;

	if (der_next(&p, end, &cert) != 0 || cert.tag != DER_SEQUENCE)
		return -1;
	p = cert.val;
	if (der_next(&p, cert.val + cert.len, &tbs) != 0 || tbs.tag != DER_SEQUENCE)
		return -1;
	/* Extensions are the last field of tbsCertificate; skip every other field. */
	p = tbs.val;
	end = tbs.val + tbs.len;
	exts.tag = 0;
	while (p < end) {
		if (der_next(&p, end, &e) != 0)
			return -1;
		if (e.tag == DER_CTX_EXTENSIONS) {
			exts = e;
			break;
		}
	}
	if (exts.tag == 0)
		return 0;
	q = exts.val;
	if (der_next(&q, exts.val + exts.len, &e) != 0 || e.tag != DER_SEQUENCE)
		return -1;
	q = e.val;
	qend = e.val + e.len;
	while (q < qend) {
		const unsigned char *r;

		if (der_next(&q, qend, &ext) != 0 || ext.tag != DER_SEQUENCE)
			return -1;
		r = ext.val;
		if (der_next(&r, ext.val + ext.len, &id) != 0 || id.tag != DER_OID)
			return -1;
		if (der_next(&r, ext.val + ext.len, &f) != 0)
			return -1;
		if (f.tag == DER_BOOLEAN &&
		    der_next(&r, ext.val + ext.len, &f) != 0)
			return -1;
		if (f.tag != DER_OCTET_STRING || r != ext.val + ext.len)
			return -1;
		if (id.len != oidlen || memcmp(id.val, oid, oidlen) != 0)
			continue;
		if (found)
			return -1;
		found = 1;
		*val = f;
	}
	return found;
}

int
x509ext_san_ips(const unsigned char *der, size_t len, struct x509ext_ip *ips, size_t max)
{
	struct der		 v, names, gn;
	const unsigned char	*p;
	int			 r, n = 0;

	if ((r = ext_find(der, len, oid_san, sizeof(oid_san), &v)) <= 0)
		return r;
	p = v.val;
	if (der_next(&p, v.val + v.len, &names) != 0 || names.tag != DER_SEQUENCE ||
	    p != v.val + v.len)
		return -1;
	p = names.val;
	while (p < names.val + names.len) {
		if (der_next(&p, names.val + names.len, &gn) != 0)
			return -1;
		if (gn.tag != DER_GN_IPADDRESS)
			continue;
		if (gn.len != 4 && gn.len != 16)
			return -1;
		if ((size_t)n < max) {
			memcpy(ips[n].addr, gn.val, gn.len);
			ips[n].len = gn.len;
		}
		n++;	/* bounded: each entry takes at least 6 bytes of a <= 16 MiB element */
	}
	return n;
}

int
x509ext_key_usage(const unsigned char *der, size_t len, unsigned *bits)
{
	struct der		 v, bs;
	const unsigned char	*p;
	unsigned		 b = 0, i;
	int			 r;

	if ((r = ext_find(der, len, oid_ku, sizeof(oid_ku), &v)) <= 0)
		return r;
	p = v.val;
	if (der_next(&p, v.val + v.len, &bs) != 0 || bs.tag != DER_BIT_STRING ||
	    p != v.val + v.len || bs.len < 1 || bs.val[0] > 7 ||
	    (bs.len == 1 && bs.val[0] != 0))
		return -1;
	/* Bit i of the string is bit (7 - i % 8) of content byte 1 + i / 8. */
	for (i = 0; i < 9 && 1 + i / 8 < bs.len; i++)
		if (bs.val[1 + i / 8] & (0x80u >> (i % 8)))
			b |= 1u << i;
	*bits = b;
	return 1;
}

/*
 * The publicKey of the SEC1 ECPrivateKey whose contents are p[0..end): 1 with *bits set
 * to the BIT STRING's contents, 0 when it has none, -1 when malformed.
 */
static int
sec1_public(const unsigned char *p, const unsigned char *end, struct der *bits)
{
	struct der		 e;
	const unsigned char	*q;

	/* version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey */
	if (der_next(&p, end, &e) != 0 || e.tag != DER_INTEGER ||
	    der_next(&p, end, &e) != 0 || e.tag != DER_OCTET_STRING)
		return -1;
	while (p < end) {
		if (der_next(&p, end, &e) != 0)
			return -1;
		if (e.tag != DER_SEC1_PUBLIC)
			continue;
		q = e.val;
		if (der_next(&q, e.val + e.len, bits) != 0 || bits->tag != DER_BIT_STRING ||
		    q != e.val + e.len)
			return -1;
		return 1;
	}
	return 0;
}

int
x509ext_ec_key_public(const unsigned char *der, size_t len, const unsigned char **point,
    size_t *point_len)
{
	const unsigned char	*p = der, *end = der + len, *q;
	struct der		 top, e, inner, bits;
	int			 r;

	if (der_next(&p, end, &top) != 0 || top.tag != DER_SEQUENCE || p != end)
		return -1;
	p = top.val;
	end = top.val + top.len;
	if (der_next(&p, end, &e) != 0 || e.tag != DER_INTEGER || der_next(&p, end, &e) != 0)
		return -1;
	if (e.tag == DER_OCTET_STRING)		/* SEC1: version, privateKey, ... */
		r = sec1_public(top.val, end, &bits);
	else if (e.tag == DER_SEQUENCE) {	/* PKCS#8: version, algorithm, privateKey */
		if (der_next(&p, end, &e) != 0 || e.tag != DER_OCTET_STRING)
			return -1;
		q = e.val;
		if (der_next(&q, e.val + e.len, &inner) != 0 || inner.tag != DER_SEQUENCE ||
		    q != e.val + e.len)
			return -1;
		if ((r = sec1_public(inner.val, inner.val + inner.len, &bits)) != 0)
			goto found;
		/* RFC 5958's own publicKey, after the attributes. */
		while (p < end) {
			if (der_next(&p, end, &bits) != 0)
				return -1;
			if (bits.tag == DER_PKCS8_PUBLIC) {
				r = 1;
				break;
			}
		}
	} else
		return -1;
found:
	if (r != 1)
		return r;
	/* A whole number of bytes: the unused-bits count is 0. */
	if (bits.len < 2 || bits.val[0] != 0)
		return -1;
	*point = bits.val + 1;
	*point_len = bits.len - 1;
	return 1;
}

char *
x509ext_ip_str(const unsigned char *addr, size_t len, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (len != 4 && len != 16) {
		snprintf(buf, size, "?");
		return buf;
	}
	if (inet_ntop(len == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size) == NULL)
		buf[0] = '\0';
	return buf;
}
