/*
 * x509ext.h: what BearSSL's decoders do not give us, read by a bounded DER walker over
 * untrusted bytes: two X.509 extensions, subjectAltName iPAddress entries (to check a
 * server reached by IP literal) and keyUsage (for EC client keys); and the public key an
 * EC private key file carries (to check it against its certificate without a point
 * multiplication).
 *
 * In a certificate only the path Certificate > tbsCertificate > [3] extensions is walked;
 * every length is checked against its enclosing element. Nothing is allocated.
 */
#ifndef CL_X509EXT_H
#define CL_X509EXT_H

#include <stddef.h>

struct x509ext_ip {
	unsigned char	addr[16];
	size_t		len;		/* 4 (IPv4) or 16 (IPv6) */
};

/*
 * Finds the iPAddress entries (GeneralName [7]) of the subjectAltName extension of the
 * DER certificate der[0..len). Fills at most max entries of ips and returns how many the
 * certificate has (which may exceed max): 0 when none or no subjectAltName, -1 when the
 * certificate is malformed (bad DER, duplicate extension, an address not 4 or 16 bytes).
 */
int	x509ext_san_ips(const unsigned char *der, size_t len, struct x509ext_ip *ips,
	    size_t max);

/* keyUsage bits, numbered as in RFC 5280 (bit i is 1u << i). */
#define X509EXT_KU_DIGITAL_SIGNATURE	(1u << 0)
#define X509EXT_KU_KEY_ENCIPHERMENT	(1u << 2)
#define X509EXT_KU_KEY_AGREEMENT	(1u << 4)

/*
 * Reads the keyUsage extension of der[0..len): returns 1 with *bits set, 0 when the
 * certificate has none (*bits untouched), -1 when malformed.
 */
int	x509ext_key_usage(const unsigned char *der, size_t len, unsigned *bits);

/*
 * Finds the public key an EC private key carries, in the DER of a SEC1 ECPrivateKey
 * ("EC PRIVATE KEY": its [1] publicKey) or a PKCS#8 PrivateKeyInfo ("PRIVATE KEY": the
 * one inside, else RFC 5958's [1] publicKey): 1 with *point (into der) and *point_len
 * set to the encoded point, 0 when the key carries none, -1 when der is malformed.
 * Nothing checks that the point belongs to the private key: the caller decides what a
 * match with it proves.
 */
int	x509ext_ec_key_public(const unsigned char *der, size_t len,
	    const unsigned char **point, size_t *point_len);

/*
 * Formats a 4- or 16-byte address as text (inet_ntop) into buf; returns buf.
 * size should be at least 46.
 */
char	*x509ext_ip_str(const unsigned char *addr, size_t len, char *buf, size_t size);

#endif
