/*
 * tls_err.c: BearSSL error codes and TLS alerts by name, with a sentence each, after
 * BearSSL's tools/errors.c (written anew). See tls_error_str() in tls.h.
 */
#include <stdio.h>

#include <bearssl.h>

#include "tls.h"

/* Sentences say what a user of a kubeconfig can do about it. */
static const struct {
	int		 err;
	const char	*name;
	const char	*text;
} tls_errors[] = {
	{ BR_ERR_BAD_PARAM, "BR_ERR_BAD_PARAM", "caller-provided parameter is incorrect" },
	{ BR_ERR_BAD_STATE, "BR_ERR_BAD_STATE", "operation requested in the wrong state" },
	{ BR_ERR_UNSUPPORTED_VERSION, "BR_ERR_UNSUPPORTED_VERSION",
	    "server does not support TLS 1.2" },
	{ BR_ERR_BAD_VERSION, "BR_ERR_BAD_VERSION",
	    "server answered with a protocol version other than TLS 1.2" },
	{ BR_ERR_BAD_LENGTH, "BR_ERR_BAD_LENGTH", "record with an invalid length" },
	{ BR_ERR_TOO_LARGE, "BR_ERR_TOO_LARGE", "record too large" },
	{ BR_ERR_BAD_MAC, "BR_ERR_BAD_MAC", "record failed its integrity check" },
	{ BR_ERR_NO_RANDOM, "BR_ERR_NO_RANDOM", "no source of randomness" },
	{ BR_ERR_UNKNOWN_TYPE, "BR_ERR_UNKNOWN_TYPE", "record of an unknown type" },
	{ BR_ERR_UNEXPECTED, "BR_ERR_UNEXPECTED",
	    "unexpected message (is this a TLS server?)" },
	{ BR_ERR_BAD_CCS, "BR_ERR_BAD_CCS", "invalid ChangeCipherSpec message" },
	{ BR_ERR_BAD_ALERT, "BR_ERR_BAD_ALERT", "invalid alert message" },
	{ BR_ERR_BAD_HANDSHAKE, "BR_ERR_BAD_HANDSHAKE",
	    "invalid handshake message (is this a TLS server?)" },
	{ BR_ERR_OVERSIZED_ID, "BR_ERR_OVERSIZED_ID", "session ID longer than 32 bytes" },
	{ BR_ERR_BAD_CIPHER_SUITE, "BR_ERR_BAD_CIPHER_SUITE",
	    "server chose a cipher suite we did not offer" },
	{ BR_ERR_BAD_COMPRESSION, "BR_ERR_BAD_COMPRESSION",
	    "server chose a compression we did not offer" },
	{ BR_ERR_BAD_FRAGLEN, "BR_ERR_BAD_FRAGLEN", "invalid maximum fragment length" },
	{ BR_ERR_BAD_SECRENEG, "BR_ERR_BAD_SECRENEG", "secure renegotiation failed" },
	{ BR_ERR_EXTRA_EXTENSION, "BR_ERR_EXTRA_EXTENSION",
	    "server sent an extension we did not ask for" },
	{ BR_ERR_BAD_SNI, "BR_ERR_BAD_SNI", "invalid server name indication" },
	{ BR_ERR_BAD_HELLO_DONE, "BR_ERR_BAD_HELLO_DONE", "invalid ServerHelloDone" },
	{ BR_ERR_LIMIT_EXCEEDED, "BR_ERR_LIMIT_EXCEEDED",
	    "an internal limit was exceeded (e.g. server certificate chain too long)" },
	{ BR_ERR_BAD_FINISHED, "BR_ERR_BAD_FINISHED", "invalid Finished message" },
	{ BR_ERR_RESUME_MISMATCH, "BR_ERR_RESUME_MISMATCH", "session resumption mismatch" },
	{ BR_ERR_INVALID_ALGORITHM, "BR_ERR_INVALID_ALGORITHM",
	    "no common algorithm with the server (certificate key or signature type)" },
	{ BR_ERR_BAD_SIGNATURE, "BR_ERR_BAD_SIGNATURE",
	    "server's key exchange signature is invalid" },
	{ BR_ERR_WRONG_KEY_USAGE, "BR_ERR_WRONG_KEY_USAGE",
	    "certificate's key usage forbids the chosen key exchange" },
	{ BR_ERR_NO_CLIENT_AUTH, "BR_ERR_NO_CLIENT_AUTH",
	    "server requires a client certificate and none is configured" },
	{ BR_ERR_IO, "BR_ERR_IO", "socket error" },
	{ BR_ERR_X509_INVALID_VALUE, "BR_ERR_X509_INVALID_VALUE",
	    "server certificate has an invalid value" },
	{ BR_ERR_X509_TRUNCATED, "BR_ERR_X509_TRUNCATED", "server certificate is truncated" },
	{ BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN",
	    "server sent no certificate" },
	{ BR_ERR_X509_INNER_TRUNC, "BR_ERR_X509_INNER_TRUNC",
	    "server certificate has a truncated element" },
	{ BR_ERR_X509_BAD_TAG_CLASS, "BR_ERR_X509_BAD_TAG_CLASS",
	    "server certificate is malformed (tag class)" },
	{ BR_ERR_X509_BAD_TAG_VALUE, "BR_ERR_X509_BAD_TAG_VALUE",
	    "server certificate is malformed (tag value)" },
	{ BR_ERR_X509_INDEFINITE_LENGTH, "BR_ERR_X509_INDEFINITE_LENGTH",
	    "server certificate uses an indefinite length (not DER)" },
	{ BR_ERR_X509_EXTRA_ELEMENT, "BR_ERR_X509_EXTRA_ELEMENT",
	    "server certificate has an unexpected extra element" },
	{ BR_ERR_X509_UNEXPECTED, "BR_ERR_X509_UNEXPECTED",
	    "server certificate has an unexpected element" },
	{ BR_ERR_X509_NOT_CONSTRUCTED, "BR_ERR_X509_NOT_CONSTRUCTED",
	    "server certificate is malformed (expected a constructed element)" },
	{ BR_ERR_X509_NOT_PRIMITIVE, "BR_ERR_X509_NOT_PRIMITIVE",
	    "server certificate is malformed (expected a primitive element)" },
	{ BR_ERR_X509_PARTIAL_BYTE, "BR_ERR_X509_PARTIAL_BYTE",
	    "server certificate has a BIT STRING with a partial byte" },
	{ BR_ERR_X509_BAD_BOOLEAN, "BR_ERR_X509_BAD_BOOLEAN",
	    "server certificate has an invalid BOOLEAN" },
	{ BR_ERR_X509_OVERFLOW, "BR_ERR_X509_OVERFLOW",
	    "server certificate has a value too large to decode" },
	{ BR_ERR_X509_BAD_DN, "BR_ERR_X509_BAD_DN",
	    "server certificate has an invalid distinguished name" },
	{ BR_ERR_X509_BAD_TIME, "BR_ERR_X509_BAD_TIME",
	    "server certificate has an invalid validity date" },
	{ BR_ERR_X509_UNSUPPORTED, "BR_ERR_X509_UNSUPPORTED",
	    "server certificate uses an unsupported feature" },
	{ BR_ERR_X509_LIMIT_EXCEEDED, "BR_ERR_X509_LIMIT_EXCEEDED",
	    "server certificate exceeds a decoding limit" },
	{ BR_ERR_X509_WRONG_KEY_TYPE, "BR_ERR_X509_WRONG_KEY_TYPE",
	    "server certificate's key type does not fit the key exchange" },
	{ BR_ERR_X509_BAD_SIGNATURE, "BR_ERR_X509_BAD_SIGNATURE",
	    "a signature in the server's certificate chain is invalid" },
	{ BR_ERR_X509_TIME_UNKNOWN, "BR_ERR_X509_TIME_UNKNOWN",
	    "the current time is unknown, so validity dates cannot be checked" },
	{ BR_ERR_X509_EXPIRED, "BR_ERR_X509_EXPIRED",
	    "server certificate has expired or is not yet valid (check the clock)" },
	{ BR_ERR_X509_DN_MISMATCH, "BR_ERR_X509_DN_MISMATCH",
	    "server certificate chain is out of order (issuer/subject mismatch)" },
	{ BR_ERR_X509_BAD_SERVER_NAME, "BR_ERR_X509_BAD_SERVER_NAME",
	    "server certificate is not valid for the server's name or address" },
	{ BR_ERR_X509_CRITICAL_EXTENSION, "BR_ERR_X509_CRITICAL_EXTENSION",
	    "server certificate has an unsupported critical extension" },
	{ BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA",
	    "an intermediate certificate is not a CA" },
	{ BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE",
	    "server certificate's key usage forbids TLS server use" },
	{ BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY",
	    "server certificate's key is too small" },
	{ BR_ERR_X509_NOT_TRUSTED, "BR_ERR_X509_NOT_TRUSTED",
	    "server certificate not signed by the kubeconfig's certificate authority" },
};

static const struct {
	int		 alert;
	const char	*name;
} tls_alerts[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" }, { 20, "bad_record_mac" },
	{ 22, "record_overflow" }, { 30, "decompression_failure" },
	{ 40, "handshake_failure" }, { 42, "bad_certificate" },
	{ 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
	{ 45, "certificate_expired" }, { 46, "certificate_unknown" },
	{ 47, "illegal_parameter" }, { 48, "unknown_ca" }, { 49, "access_denied" },
	{ 50, "decode_error" }, { 51, "decrypt_error" }, { 70, "protocol_version" },
	{ 71, "insufficient_security" }, { 80, "internal_error" }, { 90, "user_canceled" },
	{ 100, "no_renegotiation" }, { 110, "unsupported_extension" },
	{ 112, "unrecognized_name" }, { 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

static const char *
alert_name(int alert)
{
	size_t	i;

	for (i = 0; i < sizeof(tls_alerts) / sizeof(tls_alerts[0]); i++)
		if (tls_alerts[i].alert == alert)
			return tls_alerts[i].name;
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
	for (i = 0; i < sizeof(tls_errors) / sizeof(tls_errors[0]); i++) {
		if (tls_errors[i].err == err) {
			snprintf(buf, size, "%s (%s)", tls_errors[i].name, tls_errors[i].text);
			return buf;
		}
	}
	snprintf(buf, size, "BearSSL error %d", err);
	return buf;
}

