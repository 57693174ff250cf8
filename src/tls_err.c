/*
 * tls_err.c: BearSSL error codes and TLS alerts by name, with a sentence each, after
 * BearSSL's tools/errors.c (written anew). See tls_error_str() in tls.h.
 */
#include <stdio.h>
#include <string.h>

#include <bearssl.h>

#include "tls.h"

/*
 * The BearSSL errors by name (without "BR_ERR_") and a sentence each; the sentences say
 * what a user of a kubeconfig can do about it. Kept as one string of "NAME\0sentence\0"
 * pairs beside a byte array of the codes, not as a table of pointers: an entry costs its
 * text and one byte.
 */
#define TLS_ERRORS(X) \
	X(BAD_PARAM, "caller-provided parameter is incorrect") \
	X(BAD_STATE, "operation requested in the wrong state") \
	X(UNSUPPORTED_VERSION, "server does not support TLS 1.2") \
	X(BAD_VERSION, "server answered with a protocol version other than TLS 1.2") \
	X(BAD_LENGTH, "record with an invalid length") \
	X(TOO_LARGE, "record too large") \
	X(BAD_MAC, "record failed its integrity check") \
	X(NO_RANDOM, "no source of randomness") \
	X(UNKNOWN_TYPE, "record of an unknown type") \
	X(UNEXPECTED, "unexpected message (is this a TLS server?)") \
	X(BAD_CCS, "invalid ChangeCipherSpec message") \
	X(BAD_ALERT, "invalid alert message") \
	X(BAD_HANDSHAKE, "invalid handshake message (is this a TLS server?)") \
	X(OVERSIZED_ID, "session ID longer than 32 bytes") \
	X(BAD_CIPHER_SUITE, "server chose a cipher suite we did not offer") \
	X(BAD_COMPRESSION, "server chose a compression we did not offer") \
	X(BAD_FRAGLEN, "invalid maximum fragment length") \
	X(BAD_SECRENEG, "secure renegotiation failed") \
	X(EXTRA_EXTENSION, "server sent an extension we did not ask for") \
	X(BAD_SNI, "invalid server name indication") \
	X(BAD_HELLO_DONE, "invalid ServerHelloDone") \
	X(LIMIT_EXCEEDED, \
	    "an internal limit was exceeded (e.g. server certificate chain too long)") \
	X(BAD_FINISHED, "invalid Finished message") \
	X(RESUME_MISMATCH, "session resumption mismatch") \
	X(INVALID_ALGORITHM, \
	    "no common algorithm with the server (certificate key or signature type)") \
	X(BAD_SIGNATURE, "server's key exchange signature is invalid") \
	X(WRONG_KEY_USAGE, "certificate's key usage forbids the chosen key exchange") \
	X(NO_CLIENT_AUTH, "server requires a client certificate and none is configured") \
	X(IO, "socket error") \
	X(X509_INVALID_VALUE, "server certificate has an invalid value") \
	X(X509_TRUNCATED, "server certificate is truncated") \
	X(X509_EMPTY_CHAIN, "server sent no certificate") \
	X(X509_INNER_TRUNC, "server certificate has a truncated element") \
	X(X509_BAD_TAG_CLASS, "server certificate is malformed (tag class)") \
	X(X509_BAD_TAG_VALUE, "server certificate is malformed (tag value)") \
	X(X509_INDEFINITE_LENGTH, \
	    "server certificate uses an indefinite length (not DER)") \
	X(X509_EXTRA_ELEMENT, "server certificate has an unexpected extra element") \
	X(X509_UNEXPECTED, "server certificate has an unexpected element") \
	X(X509_NOT_CONSTRUCTED, \
	    "server certificate is malformed (expected a constructed element)") \
	X(X509_NOT_PRIMITIVE, \
	    "server certificate is malformed (expected a primitive element)") \
	X(X509_PARTIAL_BYTE, "server certificate has a BIT STRING with a partial byte") \
	X(X509_BAD_BOOLEAN, "server certificate has an invalid BOOLEAN") \
	X(X509_OVERFLOW, "server certificate has a value too large to decode") \
	X(X509_BAD_DN, "server certificate has an invalid distinguished name") \
	X(X509_BAD_TIME, "server certificate has an invalid validity date") \
	X(X509_UNSUPPORTED, "server certificate uses an unsupported feature") \
	X(X509_LIMIT_EXCEEDED, "server certificate exceeds a decoding limit") \
	X(X509_WRONG_KEY_TYPE, \
	    "server certificate's key type does not fit the key exchange") \
	X(X509_BAD_SIGNATURE, "a signature in the server's certificate chain is invalid") \
	X(X509_TIME_UNKNOWN, \
	    "the current time is unknown, so validity dates cannot be checked") \
	X(X509_EXPIRED, \
	    "server certificate has expired or is not yet valid (check the clock)") \
	X(X509_DN_MISMATCH, \
	    "server certificate chain is out of order (issuer/subject mismatch)") \
	X(X509_BAD_SERVER_NAME, \
	    "server certificate is not valid for the server's name or address") \
	X(X509_CRITICAL_EXTENSION, \
	    "server certificate has an unsupported critical extension") \
	X(X509_NOT_CA, "an intermediate certificate is not a CA") \
	X(X509_FORBIDDEN_KEY_USAGE, \
	    "server certificate's key usage forbids TLS server use") \
	X(X509_WEAK_PUBLIC_KEY, "server certificate's key is too small") \
	X(X509_NOT_TRUSTED, \
	    "server certificate not signed by the kubeconfig's certificate authority") \

#define ERR_CODE(name, text)	BR_ERR_##name,
#define ERR_TEXT(name, text)	#name "\0" text "\0"
#define ERR_FITS(name, text)	_Static_assert(BR_ERR_##name > 0 && BR_ERR_##name < 256, #name);
TLS_ERRORS(ERR_FITS)
static const unsigned char	tls_error_codes[] = { TLS_ERRORS(ERR_CODE) };
static const char		tls_error_texts[] = TLS_ERRORS(ERR_TEXT);

/* The TLS alerts (RFC 8446 section 6), as the errors: codes and a string of names. */
#define TLS_ALERTS(A) \
	A(0, close_notify) A(10, unexpected_message) A(20, bad_record_mac) \
	A(22, record_overflow) A(30, decompression_failure) A(40, handshake_failure) \
	A(42, bad_certificate) A(43, unsupported_certificate) A(44, certificate_revoked) \
	A(45, certificate_expired) A(46, certificate_unknown) A(47, illegal_parameter) \
	A(48, unknown_ca) A(49, access_denied) A(50, decode_error) A(51, decrypt_error) \
	A(70, protocol_version) A(71, insufficient_security) A(80, internal_error) \
	A(90, user_canceled) A(100, no_renegotiation) A(110, unsupported_extension) \
	A(112, unrecognized_name) A(116, certificate_required) \
	A(120, no_application_protocol)

#define ALERT_CODE(code, name)	code,
#define ALERT_NAME(code, name)	#name "\0"
static const unsigned char	tls_alert_codes[] = { TLS_ALERTS(ALERT_CODE) };
static const char		tls_alert_names[] = TLS_ALERTS(ALERT_NAME);

/* The i-th of the NUL-separated strings in s. */
static const char *
nth_string(const char *s, size_t i)
{
	while (i-- > 0)
		s += strlen(s) + 1;
	return s;
}

static const char *
alert_name(int alert)
{
	size_t	i;

	for (i = 0; i < sizeof(tls_alert_codes); i++)
		if (tls_alert_codes[i] == alert)
			return nth_string(tls_alert_names, i);
	return "unknown alert";
}

/* What an alert from the server most likely means for us. */
static const char *
alert_hint(int alert)
{
	switch (alert) {
	case 42: case 43: case 44: case 45: case 46: case 48: case 116:
		return ": the server rejected our client certificate";
	case 40:
		return ": no common cipher suite or client certificate problem";
	default:
		return "";
	}
}

const char *
tls_error_str(int err, char *buf, size_t size)
{
	size_t	i;

	/*
	 * protocol_version in reply to our ClientHello, which offers TLS 1.2 and nothing
	 * newer: the server wants TLS 1.3 (a server stuck below 1.2 answers with its own
	 * version instead, BR_ERR_UNSUPPORTED_VERSION). BearSSL has no TLS 1.3.
	 */
	if (err == BR_ERR_RECV_FATAL_ALERT + 70) {
		snprintf(buf, size, "the server accepts only TLS 1.3, and carrier-lock speaks "
		    "TLS 1.2 (BearSSL); allow TLS 1.2 there (OpenShift: not the Modern TLS "
		    "profile) (BR_ERR_RECV_FATAL_ALERT 70 protocol_version)");
		return buf;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
		snprintf(buf, size, "BR_ERR_RECV_FATAL_ALERT (server sent fatal alert %d %s%s)",
		    err - BR_ERR_RECV_FATAL_ALERT, alert_name(err - BR_ERR_RECV_FATAL_ALERT),
		    alert_hint(err - BR_ERR_RECV_FATAL_ALERT));
		return buf;
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256) {
		snprintf(buf, size, "BR_ERR_SEND_FATAL_ALERT (we sent fatal alert %d %s)",
		    err - BR_ERR_SEND_FATAL_ALERT, alert_name(err - BR_ERR_SEND_FATAL_ALERT));
		return buf;
	}
	for (i = 0; i < sizeof(tls_error_codes); i++) {
		if (tls_error_codes[i] == err) {
			const char	*name = nth_string(tls_error_texts, 2 * i);

			snprintf(buf, size, "BR_ERR_%s (%s)", name, name + strlen(name) + 1);
			return buf;
		}
	}
	snprintf(buf, size, "BearSSL error %d", err);
	return buf;
}

