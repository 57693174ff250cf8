/*
 * noproxy.h: NO_PROXY lists with the rules of Go's golang.org/x/net/http/httpproxy, which
 * client-go and kubectl use. A pure function over environment text: no allocation, no
 * logging, any length.
 *
 * The list is split at commas; each entry is trimmed of spaces and compared without
 * regard to case. Entries:
 *   "*"                   every host goes direct;
 *   "10.0.0.0/8", "fd00::/8"   a CIDR: IP literal hosts inside it;
 *   "192.168.1.1", "::1", "192.168.1.1:80", "[2001:db8::1]:443"   an IP (and port);
 *   "example.com"         example.com and its subdomains;
 *   ".example.com", "*.example.com"   subdomains of example.com only;
 *   any of the names with ":PORT"     only for that port.
 * Names never match IP literal hosts; IP entries only match IP literal hosts (no DNS).
 * Entries that are none of these (":80", "[::1]") match nothing, as in Go.
 * Whatever the list says, "localhost" and loopback IPs (127.0.0.0/8, ::1) go direct.
 * Non-ASCII names are not converted to punycode (kubeconfig hosts are ASCII).
 */
#ifndef CL_NOPROXY_H
#define CL_NOPROXY_H

/*
 * Returns 1 when a connection to host (a name, or an IP literal without brackets) and
 * port (decimal) must not use a proxy by the list no_proxy (NULL or "" for none), else 0.
 */
int	noproxy_bypass(const char *no_proxy, const char *host, const char *port);

#endif
