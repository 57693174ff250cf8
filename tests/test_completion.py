"""Shell completion and the kubectl plugin (issue 13, items 5 and 6).

The scripts that `carrier-lock completion bash|zsh|fish` prints are loaded into the real
shells (Debian's bash, zsh and fish) and asked for completions the way each shell asks:
bash through COMP_LINE/COMP_POINT and COMPREPLY, zsh with compinit's registration checked
and compadd recording what it is given, fish by its own `complete -C`. kubectl is the harness's own (tests/cluster/bin/kubectl), which
finds kubectl-carrier_lock and kubectl_complete-carrier_lock on PATH.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from lockutil import BIN, REPO, unique_name

KUBECTL = REPO / "tests" / "cluster" / "bin" / "kubectl"


@pytest.fixture
def path_dir(tmp_path):
    """A PATH directory with carrier-lock, the plugin symlink and kubectl's completer."""
    d = tmp_path / "bin"
    d.mkdir()
    (d / "carrier-lock").symlink_to(BIN)
    (d / "kubectl-carrier_lock").symlink_to(BIN)
    shutil.copy(REPO / "docs" / "kubectl_complete-carrier_lock", d)
    return d


def shell_env(path_dir, **extra):
    env = {"PATH": f"{path_dir}:/usr/bin:/bin", "HOME": str(path_dir.parent)}
    env.update(extra)
    return env


def bash_complete(path_dir, line, **env):
    script = (f'source <(carrier-lock completion bash)\n'
              f'complete -p carrier-lock\n'
              f'COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n'
              f'_carrier_lock\n'
              f'printf "<%s>\\n" "${{COMPREPLY[@]}}"\n')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, env=shell_env(path_dir, **env), timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "complete -F _carrier_lock carrier-lock", r.stdout
    return [l[1:-1] for l in lines[1:] if l != "<>"]


def zsh_complete(path_dir, *words, **env):
    quoted = " ".join(f"'{w}'" for w in words)
    script = ('autoload -U compinit; compinit -u -D\n'
              'source <(carrier-lock completion zsh)\n'
              'print -r -- "registered=$_comps[carrier-lock]"\n'
              'compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; '
              '[[ $1 == -- ]] && shift; print -rl -- "${(@)^@}"; }\n'
              '_files() { print -r -- FILES; }\n'
              f'words=({quoted}); CURRENT=${{#words}}\n'
              '_carrier_lock\n')
    r = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True,
                       env=shell_env(path_dir, **env), timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "registered=_carrier_lock", r.stdout
    return lines[1:]


def kubeconfig_with_contexts(tmp_path):
    p = tmp_path / "multi.kubeconfig"
    p.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
                 "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n"
                 "users:\n- name: u\n  user:\n    token: x\n"
                 "contexts:\n- name: prod\n  context:\n    cluster: c\n    user: u\n"
                 "    namespace: perf-locks\n"
                 "- name: staging\n  context:\n    cluster: c\n    user: u\n")
    return p


def test_bash_completes_actions_flags_durations_and_kubeconfig_names(path_dir, tmp_path):
    kc = kubeconfig_with_contexts(tmp_path)
    assert bash_complete(path_dir, "carrier-lock ") == [
        "acquire", "release", "force-release", "query", "cleanup", "run", "list", "completion"]
    assert bash_complete(path_dir, "carrier-lock acq") == ["acquire"]
    assert bash_complete(path_dir, "carrier-lock acquire --max") == ["--max-wait-time"]
    assert "1h30m" in bash_complete(path_dir, "carrier-lock acquire --max-wait-time ")
    assert bash_complete(path_dir, "carrier-lock acquire --ttl 1h") == ["1h30m"]
    assert bash_complete(path_dir, f"carrier-lock --kubeconfig {kc} acquire --context ") == [
        "prod", "staging"]
    # --flag=value: bash splits at "=", so only the value part is offered.
    assert bash_complete(path_dir, f"carrier-lock --kubeconfig={kc} --context=st") == [
        "staging"]
    assert bash_complete(path_dir, "carrier-lock -n ", KUBECONFIG=f"/nonexistent:{kc}") == [
        "perf-locks", "default"]
    assert bash_complete(path_dir, "carrier-lock completion ") == ["bash", "zsh", "fish"]


def test_zsh_completes_actions_flags_durations_and_kubeconfig_names(path_dir, tmp_path):
    kc = kubeconfig_with_contexts(tmp_path)
    assert zsh_complete(path_dir, "carrier-lock", "") == [
        "acquire", "release", "force-release", "query", "cleanup", "run", "list", "completion"]
    assert zsh_complete(path_dir, "carrier-lock", "rel") == ["release"]
    assert zsh_complete(path_dir, "carrier-lock", "query", "--req") == ["--request-timeout"]
    assert "30s" in zsh_complete(path_dir, "carrier-lock", "acquire", "--ttl", "")
    assert zsh_complete(path_dir, "carrier-lock", "--kubeconfig", str(kc), "--context",
                        "p") == ["prod"]
    assert zsh_complete(path_dir, "carrier-lock", f"--kubeconfig={kc}", "--namespace=") == [
        "--namespace=perf-locks", "--namespace=default"]
    # After "--" the command and its files are the shell's: zsh's own _files.
    assert zsh_complete(path_dir, "carrier-lock", "run", "--", "") == ["FILES"]
    assert zsh_complete(path_dir, "carrier-lock", "acquire", "--kubeconfig", "") == ["FILES"]


def fish_complete(path_dir, line, **env):
    r = subprocess.run(["fish", "--no-config", "-c",
                        f"carrier-lock completion fish | source; complete -C {line!r}"],
                       capture_output=True, text=True, env=shell_env(path_dir, **env),
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_fish_completes_actions_durations_and_kubeconfig_names(path_dir, tmp_path):
    kc = kubeconfig_with_contexts(tmp_path)
    assert fish_complete(path_dir, "carrier-lock cle") == ["cleanup"]
    assert fish_complete(path_dir, "carrier-lock acquire --ttl 1h") == ["1h30m"]
    # fish sorts what it is given.
    assert fish_complete(path_dir, f"carrier-lock --kubeconfig {kc} --context ") == [
        "prod", "staging"]
    assert fish_complete(path_dir, f"carrier-lock --kubeconfig={kc} -n p") == ["perf-locks"]


def test_completion_needs_a_known_shell(path_dir):
    r = subprocess.run([BIN, "completion", "tcsh"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "bash, zsh or fish" in r.stderr
    assert r.stdout == ""
    fish = subprocess.run([BIN, "completion", "fish"], capture_output=True, text=True)
    assert fish.returncode == 0 and "complete -c carrier-lock" in fish.stdout


@pytest.mark.skipif(not KUBECTL.exists(), reason="the harness's kubectl is not built")
def test_kubectl_completes_the_plugin_through_kubectl_complete(path_dir):
    env = shell_env(path_dir)
    r = subprocess.run([str(KUBECTL), "__complete", "carrier-lock", "acq"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "acquire", r.stdout
    r = subprocess.run([str(KUBECTL), "__complete", "carrier-lock", "acquire", "--ttl", "1"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert "1h30m" in r.stdout.splitlines(), r.stdout


@pytest.mark.skipif(not KUBECTL.exists(), reason="the harness's kubectl is not built")
def test_kubectl_carrier_lock_takes_and_frees_a_lock(cluster, path_dir):
    name = unique_name("plugin")
    kc = cluster.kubeconfig("admin")
    # One shell, as a test script: kubectl execs the plugin in its own place, so the
    # owner (our parent) is this shell for acquire and release alike.
    script = (f'set -e\nkubectl carrier-lock acquire --kubeconfig {kc} --name {name} '
              f'--max-wait-time 10s\n'
              f'kubectl carrier-lock query --kubeconfig {kc} --name {name}\n'
              f'kubectl carrier-lock release --kubeconfig {kc} --name {name}\n'
              f'echo "shell=$$"\n')
    env = shell_env(path_dir)
    shutil.copy(KUBECTL, path_dir / "kubectl")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    rec = json.loads(lines[0])
    assert rec["pid"] == lines[-1].split("=")[1]
    q = subprocess.run([BIN, "query", "--kubeconfig", kc, "--name", name],
                       capture_output=True, text=True)
    assert q.stdout == "{}\n"
    h = subprocess.run([str(path_dir / "kubectl"), "carrier-lock", "--help"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert h.returncode == 0
    assert h.stdout.startswith("usage: kubectl carrier-lock ACTION [flags]\n")
    u = subprocess.run([str(path_dir / "kubectl"), "carrier-lock", "acquire", "--bogus"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert u.returncode == 2
    assert "run 'kubectl carrier-lock --help'" in u.stderr
