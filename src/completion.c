/*
 * completion.c: see completion.h. The scripts are thin: each shell asks the binary
 * itself ("carrier-lock __complete WORDS... CURRENT", the protocol of Cobra programs that
 * kubectl's plugin completion speaks too), so actions and flags come from cli.c's own
 * tables and cannot drift from --help.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "completion.h"
#include "kcfg_int.h"
#include "yaml.h"

/* Cobra's directives, the last line of __complete's output. */
#define DIRECTIVE_DEFAULT	0	/* the shell may complete file names */
#define DIRECTIVE_NOFILE	4	/* nothing else fits */

#define COMPLETE_MAX_FILES	16	/* kubeconfig files read from $KUBECONFIG */
#define COMPLETE_MAX_NAMES	512	/* contexts or namespaces offered */

static const char bash_script[] =
"# bash completion for carrier-lock. Load it with\n"
"#     source <(carrier-lock completion bash)\n"
"# or save it as /usr/share/bash-completion/completions/carrier-lock.\n"
"_carrier_lock() {\n"
"\tlocal line=${COMP_LINE:0:COMP_POINT} words out directive cur prefix c\n"
"\tread -ra words <<<\"$line\"\n"
"\t[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=(\"\")\n"
"\tcur=${words[${#words[@]}-1]}\n"
"\tout=$(\"${words[0]}\" __complete \"${words[@]:1}\" 2>/dev/null) || return 0\n"
"\tdirective=${out##*:}\n"
"\tout=${out%:*}\n"
"\t# bash splits --flag=value at '=': complete only the part after it.\n"
"\tprefix=\n"
"\t[[ $cur == *=* && $COMP_WORDBREAKS == *=* ]] && prefix=${cur%%=*}=\n"
"\tCOMPREPLY=()\n"
"\twhile IFS= read -r c; do\n"
"\t\t[[ -n $c ]] && COMPREPLY+=(\"${c#\"$prefix\"}\")\n"
"\tdone <<<\"$out\"\n"
"\tif [[ ${#COMPREPLY[@]} -eq 0 && $(( directive & 4 )) -eq 0 ]]; then\n"
"\t\tcompopt -o default 2>/dev/null\n"
"\tfi\n"
"\treturn 0\n"
"}\n"
"complete -F _carrier_lock carrier-lock\n";

static const char zsh_script[] =
"#compdef carrier-lock\n"
"# zsh completion for carrier-lock. Load it with\n"
"#     source <(carrier-lock completion zsh)\n"
"# or save it as _carrier-lock in a directory of $fpath.\n"
"_carrier_lock() {\n"
"\tlocal out directive\n"
"\tlocal -a lines cands\n"
"\tout=$(${words[1]} __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null) || return 1\n"
"\tlines=(\"${(@f)out}\")\n"
"\tdirective=${lines[-1]#:}\n"
"\tcands=(\"${(@)lines[1,-2]}\")\n"
"\tcands=(\"${(@)cands:#}\")\n"
"\tif (( ${#cands} )); then\n"
"\t\tcompadd -Q -- \"${(@)cands}\"\n"
"\telif (( ! (directive & 4) )); then\n"
"\t\t_files\n"
"\tfi\n"
"}\n"
"if (( $+functions[compdef] )); then compdef _carrier_lock carrier-lock; fi\n";

static const char fish_script[] =
"# fish completion for carrier-lock. Load it with\n"
"#     carrier-lock completion fish | source\n"
"# or save it as ~/.config/fish/completions/carrier-lock.fish.\n"
"function __carrier_lock_complete\n"
"\tset -l words (commandline -opc)\n"
"\tset -l cur (commandline -ct)\n"
"\tfor l in ($words[1] __complete $words[2..-1] \"$cur\" 2>/dev/null)\n"
"\t\tstring match -q -r '^:[0-9]+$' -- $l; or echo $l\n"
"\tend\n"
"end\n"
"complete -c carrier-lock -f -a '(__carrier_lock_complete)'\n";

/* Examples a duration flag is completed with (Go's syntax, as --help gives them). */
static const char *const durations[] = { "0", "500ms", "30s", "90s", "10m", "120m", "1h30m",
    "2h" };

struct names {
	char	*v[COMPLETE_MAX_NAMES];
	size_t	 n;
};

static void
names_add(struct names *ns, const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0' || ns->n >= COMPLETE_MAX_NAMES)
		return;
	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return;
	if ((ns->v[ns->n] = strdup(s)) != NULL)
		ns->n++;
}

static void
names_free(struct names *ns)
{
	while (ns->n > 0)
		free(ns->v[--ns->n]);
}

/* Prints each candidate that starts with cur (after the "--flag=" prefix, if any). */
static void
offer(const char *prefix, const char *cand, const char *cur)
{
	size_t	pl = strlen(prefix);

	if (strncmp(prefix, cur, pl) == 0 && strncmp(cand, cur + pl, strlen(cur + pl)) == 0)
		printf("%s%s\n", prefix, cand);
}

/*
 * Contexts (want_ns 0) or the namespaces they name (1) in one kubeconfig file. A file
 * that cannot be read or parsed adds nothing: completion must not print errors.
 */
static void
kubeconfig_names(const char *path, int want_ns, struct names *out)
{
	struct yaml_node	*root;
	const struct yaml_node	*ctxs, *name, *ctx, *ns;
	unsigned char		*buf;
	const char		*why, *err;
	size_t			 len, line, i;

	if ((buf = kcfg_read_file(path, &len, &why)) == NULL)
		return;
	root = yaml_parse((const char *)buf, len, &err, &line);
	free(buf);
	if (root == NULL)
		return;
	ctxs = yaml_get(root, "contexts", NULL);
	for (i = 0; ctxs != NULL && ctxs->kind == YAML_SEQ && i < ctxs->n; i++) {
		name = yaml_get(ctxs->vals[i], "name", NULL);
		ctx = yaml_get(ctxs->vals[i], "context", NULL);
		ns = yaml_get(ctx, "namespace", NULL);
		if (!want_ns && name != NULL && name->kind == YAML_SCALAR)
			names_add(out, name->scalar);
		if (want_ns && ns != NULL && ns->kind == YAML_SCALAR)
			names_add(out, ns->scalar);
	}
	yaml_free(root);
}

/* The kubeconfig files in force: --kubeconfig among words, else $KUBECONFIG, else ~. */
static void
names_from_kubeconfigs(int nwords, char **words, int want_ns, struct names *out)
{
	const char	*explicit = NULL, *env, *home;
	char		 path[4096], *list, *p, *save = NULL;
	int		 i, files = 0;

	for (i = 0; i < nwords; i++) {
		if (strcmp(words[i], "--kubeconfig") == 0 && i + 1 < nwords)
			explicit = words[i + 1];
		else if (strncmp(words[i], "--kubeconfig=", 13) == 0)
			explicit = words[i] + 13;
	}
	if (explicit != NULL) {
		kubeconfig_names(explicit, want_ns, out);
		return;
	}
	if ((env = getenv("KUBECONFIG")) != NULL && *env != '\0') {
		if ((list = strdup(env)) == NULL)
			return;
		for (p = strtok_r(list, ":", &save); p != NULL && files < COMPLETE_MAX_FILES;
		    p = strtok_r(NULL, ":", &save), files++)
			kubeconfig_names(p, want_ns, out);
		free(list);
		return;
	}
	if ((home = getenv("HOME")) != NULL &&
	    (size_t)snprintf(path, sizeof(path), "%s/.kube/config", home) < sizeof(path))
		kubeconfig_names(path, want_ns, out);
}

/* The flag named s (its name or alias), or -1; *kind set. */
static int
flag_kind(const char *s, size_t len)
{
	const char	*name, *alias;
	int		 kind;
	size_t		 i;

	for (i = 0; cli_flag_at(i, &name, &alias, &kind) == 0; i++)
		if ((strlen(name) == len && strncmp(name, s, len) == 0) ||
		    (alias != NULL && strlen(alias) == len && strncmp(alias, s, len) == 0))
			return kind;
	return -1;
}

/* Values for the flag named flag[0..flen); returns the directive. */
static int
complete_value(const char *flag, size_t flen, const char *prefix, const char *cur,
    int nwords, char **words)
{
	struct names	 ns = { .n = 0 };
	size_t		 i;
	const char	*a;
	int		 kind = flag_kind(flag, flen);

#define IS(f)	(flen == strlen(f) && strncmp(flag, f, flen) == 0)
	if (kind == CLI_FLAG_DURATION) {
		for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
			offer(prefix, durations[i], cur);
	} else if (IS("--action")) {
		for (i = 0; (a = cli_action_at(i)) != NULL; i++)
			offer(prefix, a, cur);
	} else if (IS("--context") || IS("-n") || IS("--namespace")) {
		names_from_kubeconfigs(nwords, words, !IS("--context"), &ns);
		if (!IS("--context"))
			names_add(&ns, "default");
		for (i = 0; i < ns.n; i++)
			offer(prefix, ns.v[i], cur);
		names_free(&ns);
	} else if (IS("--kubeconfig")) {
		return DIRECTIVE_DEFAULT;
	}
#undef IS
	return DIRECTIVE_NOFILE;
}

/* __complete WORDS... CUR: the words after the program name, the last being completed. */
static int
complete_words(int nwords, char **words)
{
	const char	*cur = nwords > 0 ? words[nwords - 1] : "";
	const char	*name, *alias, *a, *eq, *want = NULL;
	int		 kind, i, have_action = 0, completion = 0;
	size_t		 k;

	/* The words before cur: flags, their values, the action; after "--", CMD's. */
	for (i = 0; i < nwords - 1; i++) {
		if (want != NULL) {
			want = NULL;
			continue;
		}
		if (strcmp(words[i], "--") == 0)
			return DIRECTIVE_DEFAULT;
		if (words[i][0] == '-') {
			eq = strchr(words[i], '=');
			kind = flag_kind(words[i], eq ? (size_t)(eq - words[i]) : strlen(words[i]));
			if ((kind == CLI_FLAG_VALUE || kind == CLI_FLAG_DURATION) && eq == NULL)
				want = words[i];
			continue;
		}
		if (strcmp(words[i], "completion") == 0)
			completion = 1;
		have_action = 1;
	}
	if (want != NULL)
		return complete_value(want, strlen(want), "", cur, nwords, words);
	if (completion) {
		offer("", "bash", cur);
		offer("", "zsh", cur);
		offer("", "fish", cur);
		return DIRECTIVE_NOFILE;
	}
	if (cur[0] == '-') {
		if ((eq = strchr(cur, '=')) != NULL) {
			char	prefix[64];
			size_t	flen = (size_t)(eq - cur);

			if (flen + 2 > sizeof(prefix))
				return DIRECTIVE_NOFILE;
			memcpy(prefix, cur, flen + 1);
			prefix[flen + 1] = '\0';
			return complete_value(cur, flen, prefix, cur, nwords, words);
		}
		for (k = 0; cli_flag_at(k, &name, &alias, &kind) == 0; k++) {
			offer("", name, cur);
			if (alias != NULL)
				offer("", alias, cur);
		}
		return DIRECTIVE_NOFILE;
	}
	if (!have_action) {
		for (k = 0; (a = cli_action_at(k)) != NULL; k++)
			offer("", a, cur);
		offer("", "completion", cur);
	}
	return DIRECTIVE_NOFILE;
}

int
completion_main(int argc, char **argv)
{
	int	directive;

	if (strcmp(argv[0], "__complete") == 0) {
		directive = complete_words(argc - 1, argv + 1);
		printf(":%d\n", directive);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc != 2 || (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0 &&
	    strcmp(argv[1], "fish") != 0)) {
		fprintf(stderr, "carrier-lock: completion needs one shell: bash, zsh or fish\n"
		    "carrier-lock: run '%s --help' for usage\n", cli_prog(NULL));
		return -1;
	}
	fputs(strcmp(argv[1], "bash") == 0 ? bash_script :
	    strcmp(argv[1], "zsh") == 0 ? zsh_script : fish_script, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
