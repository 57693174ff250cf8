/*
 * test_proxy.c: proxy URLs (proxy_parse, driven by tests/data/proxy/urls.txt), their
 * redaction, the choice by environment (proxy_select: Go's variable precedence and
 * NO_PROXY), CONNECT reply heads and the SOCKS5 codec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "socks5.h"
#include "test.h"

static const char *
dash(const char *s)
{
	return s == NULL ? "-" : s[0] == '\0' ? "(empty)" : s;
}

static void
url_cases(void)
{
	static const char	*kinds[] = { "http", "https", "socks5" };
	FILE			*f = fopen("tests/data/proxy/urls.txt", "r");
	char			 line[1024], descr[4200], got[1024];
	int			 cases = 0;

	test_cond("urls file opens", f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char		*mode = line, *url, *want;
		struct proxy	 p = { 0 };
		const char	*why = NULL;
		int		 rc;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((url = strchr(mode, '\t')) == NULL || (want = strchr(url + 1, '\t')) == NULL) {
			test_cond("well-formed case line", 0);
			continue;
		}
		*url++ = '\0';
		*want++ = '\0';
		rc = proxy_parse(url, strcmp(mode, "lenient") == 0, &p, &why);
		if (rc == 0)
			snprintf(got, sizeof(got), "%s %s %s %s %s %s", kinds[p.kind], p.host, p.port,
			    dash(p.user), dash(p.pass), p.shown);
		else
			snprintf(got, sizeof(got), "error: %s", why);
		snprintf(descr, sizeof(descr), "%s \"%s\" -> %s (got %s)", mode, url, want, got);
		if (strncmp(want, "error: ", 7) == 0)
			test_cond(descr, rc == -1 && strstr(got, want + 7) != NULL);
		else
			test_cond(descr, rc == 0 && strcmp(got, want) == 0);
		proxy_clear(&p);
		cases++;
	}
	fclose(f);
	test_cond("at least 30 URL cases", cases >= 30);
}

static void
redact_cases(void)
{
	char	b[256];

	test_cond("redact drops user info",
	    strcmp(proxy_redact("http://u:secret@h:1", b, sizeof(b)), "http://h:1") == 0);
	test_cond("redact drops user info with '/' in the password",
	    strcmp(proxy_redact("http://u:se/cr#et@h:1", b, sizeof(b)), "http://h:1") == 0);
	test_cond("redact of a value without scheme",
	    strcmp(proxy_redact("u:pw@h:1", b, sizeof(b)), "h:1") == 0);
	test_cond("redact keeps a URL without user info",
	    strcmp(proxy_redact("socks5://h:1", b, sizeof(b)), "socks5://h:1") == 0);
	test_cond("redact sanitises", strchr(proxy_redact("http://h\x1b[31m:1", b, sizeof(b)),
	    '\x1b') == NULL);
}

/* proxy_select for https://HOST:443 with the environment set as given ("" = unset). */
static const char *
chosen(const char *host, const char *up, const char *low, const char *np, const char *lnp)
{
	static char	 out[256];
	struct proxy	*p = NULL;
	int		 rc;

	unsetenv("HTTPS_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("http_proxy");
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	if (up != NULL)
		setenv("HTTPS_PROXY", up, 1);
	if (low != NULL)
		setenv("https_proxy", low, 1);
	if (np != NULL)
		setenv("NO_PROXY", np, 1);
	if (lnp != NULL)
		setenv("no_proxy", lnp, 1);
	test_capture_start();
	rc = proxy_select(NULL, "https", host, "443", &p);
	test_capture_end();
	snprintf(out, sizeof(out), "%s", rc != 0 ? "error" : p == NULL ? "direct" : p->shown);
	proxy_free(p);
	return out;
}

static void
select_cases(void)
{
	struct proxy	*p = NULL;
	const char	*err;

	test_cond("HTTPS_PROXY", strcmp(chosen("api.x", "http://a:1", NULL, NULL, NULL),
	    "http://a:1") == 0);
	test_cond("https_proxy", strcmp(chosen("api.x", NULL, "http://b:2", NULL, NULL),
	    "http://b:2") == 0);
	test_cond("upper case wins", strcmp(chosen("api.x", "http://a:1", "http://b:2", NULL,
	    NULL), "http://a:1") == 0);
	test_cond("empty upper case counts as unset", strcmp(chosen("api.x", "", "http://b:2",
	    NULL, NULL), "http://b:2") == 0);
	test_cond("NO_PROXY", strcmp(chosen("api.x", "http://a:1", NULL, "api.x", NULL),
	    "direct") == 0);
	test_cond("no_proxy", strcmp(chosen("api.x", "http://a:1", NULL, NULL, ".x"),
	    "direct") == 0);
	test_cond("NO_PROXY wins over no_proxy", strcmp(chosen("api.x", "http://a:1", NULL,
	    "other", "api.x"), "http://a:1") == 0);
	test_cond("loopback direct", strcmp(chosen("127.0.0.1", "http://a:1", NULL, NULL,
	    NULL), "direct") == 0);
	test_cond("bad variable is an error", strcmp(chosen("api.x", "ftp://a", NULL, NULL,
	    NULL), "error") == 0);
	test_cond("https proxy variable is an error", strcmp(chosen("api.x", "https://a",
	    NULL, NULL, NULL), "error") == 0);
	test_cond("bad variable for a NO_PROXY host is not used", strcmp(chosen("api.x",
	    "ftp://a", NULL, "*", NULL), "direct") == 0);
	unsetenv("NO_PROXY");
	unsetenv("HTTPS_PROXY");
	setenv("HTTP_PROXY", "http://h:3", 1);
	test_cond("HTTP_PROXY only for http servers",
	    proxy_select(NULL, "https", "api.x", "443", &p) == 0 && p == NULL);
	test_cond("HTTP_PROXY for an http server",
	    proxy_select(NULL, "http", "api.x", "80", &p) == 0 && p != NULL &&
	    strcmp(p->shown, "http://h:3") == 0);
	proxy_free(p);
	p = NULL;
	setenv("NO_PROXY", "*", 1);
	test_cond("proxy-url ignores NO_PROXY",
	    proxy_select("socks5://s:9", "https", "api.x", "443", &p) == 0 && p != NULL &&
	    p->kind == PROXY_SOCKS5);
	proxy_free(p);
	p = NULL;
	test_capture_start();
	proxy_select(NULL, "http", "api.x", "80", &p);
	setenv("HTTP_PROXY", "http://user:Sekr1t@h:3", 1);
	unsetenv("NO_PROXY");
	proxy_select(NULL, "http", "api.x", "80", &p);
	proxy_free(p);
	setenv("HTTP_PROXY", "http://user:Sekr1t%zz@h:3", 1);
	proxy_select(NULL, "http", "api.x", "80", &p);
	err = test_capture_end();
	test_cond("a bad variable's message names it", strstr(err, "HTTP_PROXY") != NULL);
	test_cond("no password in messages", strstr(err, "Sekr1t") == NULL);
	unsetenv("HTTP_PROXY");
}

static void
connect_reply_cases(void)
{
	const char	*why;
	char		 reason[128];
	int		 st = 0;
	const char	 ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	const char	 no[] = "HTTP/1.0 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Basic\r\n\r\n";

	test_cond("200 reply", proxy_connect_reply(ok, strlen(ok), &st, reason, sizeof(reason),
	    &why) == (long)strlen(ok) && st == 200 &&
	    strcmp(reason, "Connection established") == 0);
	test_cond("407 reply", proxy_connect_reply(no, strlen(no), &st, reason, sizeof(reason),
	    &why) == (long)strlen(no) && st == 407 &&
	    strcmp(reason, "Proxy Authentication Required") == 0);
	test_cond("incomplete reply asks for more", proxy_connect_reply(ok, 20, &st, reason,
	    sizeof(reason), &why) == 0);
	test_cond("garbage is an error", proxy_connect_reply("SSH-2.0-x\r\n", 11, &st, reason,
	    sizeof(reason), &why) == -1);
}

static void
socks5_cases(void)
{
	unsigned char	 b[SOCKS5_MAX_MSG];
	const char	*why;
	int		 rep = -1;
	static const unsigned char v4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x19, 0x2b };
	static const unsigned char nm[] = { 5, 1, 0, 3, 1, 'x', 0, 80 };

	test_cond("greeting without auth", socks5_greeting(b, 0) == 3 && b[1] == 1 && b[2] == 0);
	test_cond("greeting with auth", socks5_greeting(b, 1) == 4 && b[1] == 2 && b[3] == 2);
	test_cond("method none", socks5_method_check((const unsigned char *)"\x05\x00", 0,
	    &why) == 0);
	test_cond("method user/password not offered", socks5_method_check(
	    (const unsigned char *)"\x05\x02", 0, &why) == -1);
	test_cond("no acceptable method", socks5_method_check((const unsigned char *)"\x05\xff",
	    1, &why) == -1);
	test_cond("auth build", socks5_auth_build(b, "bob", "pw") == 8 && b[0] == 1 &&
	    b[1] == 3 && memcmp(b + 2, "bob", 3) == 0 && b[5] == 2 && memcmp(b + 6, "pw", 2) == 0);
	test_cond("auth status accepted", socks5_auth_check((const unsigned char *)"\x01\x00",
	    &why) == 0);
	test_cond("auth status rejected", socks5_auth_check((const unsigned char *)"\x01\x01",
	    &why) == -1);
	test_cond("request by name", socks5_request_build(b, "api.x", "6443") == 12 &&
	    b[3] == 3 && b[4] == 5 && b[10] == 0x19 && b[11] == 0x2b);
	test_cond("request by IPv4", socks5_request_build(b, "10.1.2.3", "443") == 10 &&
	    b[3] == 1 && b[4] == 10 && b[7] == 3);
	test_cond("request by IPv6", socks5_request_build(b, "::1", "443") == 22 && b[3] == 4);
	test_cond("request with port 0 refused", socks5_request_build(b, "api.x", "0") == 0);
	test_cond("reply IPv4 complete", socks5_reply_parse(v4, sizeof(v4), &rep, &why) == 10 &&
	    rep == 0);
	test_cond("reply IPv4 short", socks5_reply_parse(v4, 9, &rep, &why) == 0);
	test_cond("reply by name, code 1", socks5_reply_parse(nm, sizeof(nm), &rep, &why) == 8 &&
	    rep == 1);
	test_cond("reply SOCKS4 refused", socks5_reply_parse((const unsigned char *)"\x04\x5a",
	    2, &rep, &why) == -1);
	test_cond("reply code text", strcmp(socks5_rep_str(5), "connection refused") == 0);
}

int
main(void)
{
	url_cases();
	redact_cases();
	select_cases();
	connect_reply_cases();
	socks5_cases();
	return test_report();
}
