"""carrier-lock under valgrind (memcheck) against the real local cluster.

A glibc, non-sanitised, debug build (build/valgrind/carrier-lock, from src/*.c and the
host-built BearSSL) runs every action, a usage error, a kubeconfig error and `run --
true`. Each must exit as usual, with no memcheck error (--error-exitcode=99) and no
definitely or indirectly lost block. ASan/UBSan cover the same code in the other
suites; this catches what they do not (uninitialised reads, leaks on exit paths of
the unsanitised build). valgrind comes from the Debian package `valgrind`.
"""
import os
import pathlib
import shutil
import subprocess

import pytest

from lockutil import unique_name

REPO = pathlib.Path(__file__).resolve().parent.parent
VENDOR = REPO / "vendor" / "build"
BEARSSL = VENDOR / "bearssl-0.6+dfsg.1"
OUT = REPO / "build" / "valgrind" / "carrier-lock"
VALGRIND_ERRORS = 99
VALGRIND = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            f"--error-exitcode={VALGRIND_ERRORS}", "--track-origins=no"]

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None,
                                reason="valgrind is not installed (Debian package: valgrind)")


@pytest.fixture(scope="module")
def vbin():
    lib = VENDOR / "bearssl-host" / "libbearssl.a"
    if not lib.is_file():
        r = subprocess.run([str(REPO / "build.sh"), "unit"], capture_output=True, text=True)
        if not lib.is_file():
            pytest.fail(f"no {lib} (./build.sh unit failed):\n{r.stderr[-2000:]}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("HOST_CC", "cc")
    srcs = sorted(str(p) for p in (REPO / "src").glob("*.c"))
    cmd = [cc, "-g", "-O1", "-std=gnu11", "-I", str(REPO / "src"),
           "-isystem", str(BEARSSL / "inc"), "-isystem", str(VENDOR / "jsmn" / "usr" / "include"),
           *srcs, str(lib), "-o", str(OUT)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(OUT)


def vrun(vbin, *args, timeout=60):
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    return subprocess.run([*VALGRIND, vbin, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def clean(r, code):
    """Exit code as expected and memcheck silent."""
    assert r.returncode != VALGRIND_ERRORS, r.stderr
    assert "definitely lost" not in r.stderr and "indirectly lost" not in r.stderr, r.stderr
    assert "Invalid read" not in r.stderr and "uninitialised" not in r.stderr, r.stderr
    assert r.returncode == code, (r.returncode, r.stderr)


def test_actions_under_valgrind(cluster, vbin):
    kc = cluster.kubeconfig("admin")
    name = unique_name("vg")
    base = ["--kubeconfig", kc, "--name", name, "--request-timeout", "30s"]
    pid = str(os.getpid())

    r = vrun(vbin, "acquire", *base, "--pid", pid, "--max-wait-time", "0")
    clean(r, 0)
    r = vrun(vbin, "query", *base)
    clean(r, 0)
    assert f'"pid":"{pid}"' in r.stdout
    r = vrun(vbin, "release", *base, "--pid", pid)
    clean(r, 0)
    # Held by a process of this host that is gone: cleanup frees it.
    clean(vrun(vbin, "acquire", *base, "--pid", "999999", "--max-wait-time", "0"), 0)
    clean(vrun(vbin, "cleanup", *base), 0)
    clean(vrun(vbin, "acquire", *base, "--pid", pid, "--host", "elsewhere"), 0)
    clean(vrun(vbin, "force-release", *base), 0)
    r = vrun(vbin, "query", *base)
    clean(r, 0)
    assert r.stdout.strip() == "{}"


def test_run_true_under_valgrind(cluster, vbin):
    name = unique_name("vg")
    r = vrun(vbin, "run", "--kubeconfig", cluster.kubeconfig("ec"), "--name", name,
             "--", "true")
    clean(r, 0)


def test_errors_under_valgrind(vbin, tmp_path):
    clean(vrun(vbin, "acquire", "--no-such-flag"), 2)
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text("apiVersion: v1\nclusters:\n- cluster: [unclosed\n")
    clean(vrun(vbin, "query", "--kubeconfig", str(bad)), 1)
    clean(vrun(vbin, "query", "--kubeconfig", str(tmp_path / "missing")), 1)
