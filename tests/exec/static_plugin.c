/*
 * static_plugin.c: an exec credential plugin for the empty-root test, built by
 * tests/test_exec.py with musl-gcc -static -DTOKEN="...". It needs nothing but the
 * kernel: it checks that KUBERNETES_EXEC_INFO holds a v1 request and prints the token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TOKEN
#error "build with -DTOKEN=\"...\""
#endif

int
main(void)
{
	const char	*info = getenv("KUBERNETES_EXEC_INFO");

	if (info == NULL || strstr(info, "\"kind\":\"ExecCredential\"") == NULL ||
	    strstr(info, "\"apiVersion\":\"client.authentication.k8s.io/v1\"") == NULL) {
		fprintf(stderr, "static_plugin: no v1 KUBERNETES_EXEC_INFO\n");
		return 2;
	}
	printf("{\"kind\":\"ExecCredential\",\"apiVersion\":"
	    "\"client.authentication.k8s.io/v1\",\"status\":{\"token\":\"%s\"}}\n", TOKEN);
	return 0;
}
