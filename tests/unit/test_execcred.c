/*
 * Unit tests for execcred.c: the ExecCredential reply parser (each case must be refused
 * or accepted with exactly these credentials, and no reason may quote a secret) and the
 * KUBERNETES_EXEC_INFO request, also with the cluster's extension turned into JSON.
 */
#include <stdio.h>
#include <string.h>

#include "cred.h"
#include "execcred.h"
#include "json.h"
#include "kcfg.h"
#include "test.h"
#include "yaml.h"

#define V1	"client.authentication.k8s.io/v1"
#define HEAD	"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
#define PEMC	"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"
#define PEMK	"-----BEGIN EC PRIVATE KEY-----\\nSECRETKEY\\n-----END EC PRIVATE KEY-----\\n"

static const struct {
	const char	*reply;
	const char	*want_token;	/* NULL: none */
	int		 want_cert;
	long long	 want_expires;	/* ms; 0 none */
	const char	*why;		/* NULL: accepted; else words of the reason */
} cases[] = {
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\"}}", "SECRETTOKEN", 0, 0, NULL },
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\",\"expirationTimestamp\":"
	    "\"2026-12-01T20:57:16Z\"}}", "SECRETTOKEN", 0, 1796158636000LL, NULL },
	{ HEAD "\"status\":{\"clientCertificateData\":\"" PEMC "\",\"clientKeyData\":\""
	    PEMK "\"}}", NULL, 1, 0, NULL },
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\",\"clientCertificateData\":\"" PEMC
	    "\",\"clientKeyData\":\"" PEMK "\",\"expirationTimestamp\":null}}",
	    "SECRETTOKEN", 1, 0, NULL },
	{ HEAD "\"spec\":{},\"status\":{\"token\":\"SECRETTOKEN\"}}", "SECRETTOKEN", 0, 0, NULL },
	{ "", NULL, 0, 0, "not JSON" },
	{ "SECRETTOKEN", NULL, 0, 0, "not JSON" },
	{ "[1]", NULL, 0, 0, "not a JSON object" },
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\"}} x", NULL, 0, 0, "not JSON" },
	{ "{\"kind\":\"Secret\",\"apiVersion\":\"" V1 "\",\"status\":{\"token\":\"SECRETTOKEN\"}}",
	    NULL, 0, 0, "not an ExecCredential" },
	{ "{\"apiVersion\":\"" V1 "\",\"status\":{\"token\":\"SECRETTOKEN\"}}",
	    NULL, 0, 0, "not an ExecCredential" },
	{ "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
	    "\"status\":{\"token\":\"SECRETTOKEN\"}}", NULL, 0, 0, "apiVersion" },
	{ "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRETTOKEN\"}}",
	    NULL, 0, 0, "apiVersion" },
	{ HEAD "\"status\":{}}", NULL, 0, 0, "no credentials" },
	{ HEAD "\"status\":{\"token\":\"\"}}", NULL, 0, 0, "no credentials" },
	{ HEAD "\"status\":null}", NULL, 0, 0, "no status" },
	{ HEAD "\"spec\":{}}", NULL, 0, 0, "no status" },
	{ HEAD "\"status\":{\"token\":5}}", NULL, 0, 0, "must be strings" },
	{ HEAD "\"status\":{\"token\":\"SECRET TOKEN\"}}", NULL, 0, 0, "spaces" },
	{ HEAD "\"status\":{\"token\":\"SECRET\\nTOKEN\"}}", NULL, 0, 0, "control" },
	{ HEAD "\"status\":{\"token\":\"SECRET\\u0000TOKEN\"}}", NULL, 0, 0, "must be strings" },
	{ HEAD "\"status\":{\"clientCertificateData\":\"" PEMC "\"}}", NULL, 0, 0,
	    "no status.clientKeyData" },
	{ HEAD "\"status\":{\"clientKeyData\":\"" PEMK "\"}}", NULL, 0, 0,
	    "no status.clientCertificateData" },
	{ HEAD "\"status\":{\"clientCertificateData\":\"SECRETCERT\",\"clientKeyData\":\""
	    PEMK "\"}}", NULL, 0, 0, "PEM" },
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\",\"expirationTimestamp\":\"tomorrow\"}}",
	    NULL, 0, 0, "RFC 3339" },
	{ HEAD "\"status\":{\"token\":\"SECRETTOKEN\",\"token\":\"SECRETTOKEN2\"}}",
	    NULL, 0, 0, "twice" },
	{ HEAD "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SECRETTOKEN\"}}",
	    NULL, 0, 0, "twice" },
};

static void
test_parse(void)
{
	size_t	i;
	char	descr[256], why[512];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cred_value	v;
		int			rc;

		memset(&v, 0, sizeof(v));
		why[0] = '\0';
		rc = execcred_parse(cases[i].reply, strlen(cases[i].reply), V1, &v, why,
		    sizeof(why));
		snprintf(descr, sizeof(descr), "case %zu: %s", i, cases[i].why ? cases[i].why :
		    "accepted");
		if (cases[i].why == NULL) {
			test_cond(descr, rc == 0 &&
			    (cases[i].want_token ? v.token != NULL &&
			    strcmp(v.token, cases[i].want_token) == 0 : v.token == NULL) &&
			    (cases[i].want_cert ? v.cert != NULL && v.key != NULL &&
			    strstr((char *)v.key, "SECRETKEY") != NULL &&
			    v.key_len == strlen((char *)v.key) : v.cert == NULL && v.key == NULL) &&
			    v.expires == cases[i].want_expires);
		} else {
			test_cond(descr, rc == -1 && strstr(why, cases[i].why) != NULL &&
			    v.token == NULL && v.cert == NULL && v.key == NULL);
			snprintf(descr, sizeof(descr), "case %zu: reason quotes no secret", i);
			test_cond(descr, strstr(why, "SECRET") == NULL);
		}
		cred_value_clear(&v);
	}
}

static void
test_request(void)
{
	struct kcfg		k;
	struct kcfg_exec	x;
	struct yaml_node	*y;
	struct jbuf		b = { 0 };
	const char		*err, *ext = "audience: [a, 'b']\nn: 5\nf: -1.5e3\nt: true\n"
	    "q: \"true\"\nnul: ~\ns: 0x1F\nm: {}\n";
	size_t			 line;
	char			*req;

	memset(&k, 0, sizeof(k));
	memset(&x, 0, sizeof(x));
	x.api_version = V1;
	k.exec = &x;
	k.server = "https://127.0.0.1:6443";
	req = execcred_request(&k, 0);
	test_cond("request without cluster info", req != NULL && strcmp(req,
	    "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\",\"spec\":"
	    "{\"interactive\":false}}") == 0);
	free(req);

	y = yaml_parse(ext, strlen(ext), &err, &line);
	json_from_yaml(&b, y);
	yaml_free(y);
	k.exec_config = jbuf_done(&b, NULL);
	test_cond("YAML extension as JSON", k.exec_config != NULL && strcmp(k.exec_config,
	    "{\"audience\":[\"a\",\"b\"],\"n\":5,\"f\":-1.5e3,\"t\":true,\"q\":\"true\","
	    "\"nul\":null,\"s\":\"0x1F\",\"m\":{}}") == 0);
	x.provide_cluster_info = 1;
	k.tls_server_name = "api.example";
	k.insecure = 1;
	k.ca = (unsigned char *)"ab\"c";
	k.ca_len = 4;
	k.proxy_url = "http://proxy:3128";
	req = execcred_request(&k, 1);
	test_cond("request with cluster info", req != NULL && strcmp(req,
	    "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\",\"spec\":{\"cluster\":"
	    "{\"server\":\"https://127.0.0.1:6443\",\"tls-server-name\":\"api.example\","
	    "\"insecure-skip-tls-verify\":true,\"certificate-authority-data\":\"YWIiYw==\","
	    "\"proxy-url\":\"http://proxy:3128\",\"config\":{\"audience\":[\"a\",\"b\"],"
	    "\"n\":5,\"f\":-1.5e3,\"t\":true,\"q\":\"true\",\"nul\":null,\"s\":\"0x1F\","
	    "\"m\":{}}},\"interactive\":true}}") == 0);
	free(req);
	free(k.exec_config);
}

int
main(void)
{
	test_parse();
	test_request();
	return test_report();
}
