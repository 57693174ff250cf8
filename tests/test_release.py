"""Releases (issue 13, items 1-3, 7, 8): ./build.sh release, the arm64 binary under qemu,
--version, the man page, the Dockerfile.

The release is built twice from this tree into two directories and compared byte for byte
(the same commit must give the same bytes). tests/run.sh's release step passes its own
output as CARRIER_LOCK_RELEASE_DIR, so that CI builds only once more here.
"""
import hashlib
import http.server
import os
import pathlib
import re
import shutil
import subprocess
import tarfile
import threading
import time

import pytest

from lockutil import REPO, unique_name

QEMU = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")


def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def pinned(name):
    """A version pinned in build.sh (BEARSSL_DEB_VERSION, JSMN_DEB_VERSION)."""
    return re.search(rf"^{name}=(\S+)", (REPO / "build.sh").read_text(), re.M).group(1)


def build_release(dist, root=REPO):
    t0 = time.monotonic()
    r = subprocess.run([str(root / "build.sh"), "release"], capture_output=True, text=True,
                       env={**os.environ, "DIST": str(dist)}, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(f"release build in {root} into {dist}: {time.monotonic() - t0:.1f} s")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The release directory under test: tests/run.sh's (CARRIER_LOCK_RELEASE_DIR), else
    one built here."""
    given = os.environ.get("CARRIER_LOCK_RELEASE_DIR")
    if given:
        return pathlib.Path(given)
    first = tmp_path_factory.mktemp("release") / "dist"
    build_release(first)
    return first


@pytest.fixture(scope="module")
def releases(release, tmp_path_factory):
    """(first, second): two release directories built from the same commit. When the
    tree has no uncommitted changes the second is built in a git worktree of HEAD at
    another path (sharing vendor/build), so that no path of the tree can leak into the
    bytes; otherwise both are built here."""
    second = tmp_path_factory.mktemp("release") / "dist"
    if git("status", "--porcelain", "--untracked-files=no") == "":
        tree = tmp_path_factory.mktemp("worktree") / "carrier-lock"
        git("worktree", "add", "--detach", str(tree), "HEAD")
        try:
            (tree / "vendor" / "build").symlink_to(REPO / "vendor" / "build")
            build_release(second, root=tree)
        finally:
            git("worktree", "remove", "--force", str(tree))
    else:
        build_release(second)
    return release, second


@pytest.fixture(scope="module")
def version():
    return git("describe", "--tags", "--always", "--dirty")


def test_two_builds_of_one_commit_give_the_same_bytes(releases):
    a, b = releases
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_the_release_has_binaries_tarballs_sums_and_a_krew_manifest(releases, version):
    dist = releases[0]
    base = f"carrier-lock-{version}-linux-"
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        [f"{base}amd64", f"{base}arm64", f"{base}amd64.tar.gz", f"{base}arm64.tar.gz",
         "SHA256SUMS", "carrier-lock.yaml"])
    r = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=dist,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(r.stdout.splitlines()) == 5
    manifest = (dist / "carrier-lock.yaml").read_text()
    assert re.search(r"^\s+bin: carrier-lock$", manifest, re.M)
    for arch in ("amd64", "arm64"):
        tgz = dist / f"{base}{arch}.tar.gz"
        digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
        block = manifest.split(f"arch: {arch}")[1]
        assert re.search(rf"uri: \S+/{re.escape(tgz.name)}\n\s+sha256: {digest}\n", block)


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_each_tarball_holds_the_binary_docs_and_completions(releases, version, arch):
    dist = releases[0]
    top = f"carrier-lock-{version}-linux-{arch}"
    epoch = int(git("log", "-1", "--format=%ct"))
    with tarfile.open(dist / f"{top}.tar.gz") as t:
        members = {m.name: m for m in t.getmembers()}
        want = {"carrier-lock", "kubectl_complete-carrier_lock",
                "README.md", "THIRD-PARTY-NOTICES", "carrier-lock.1", "completion",
                "completion/carrier-lock.bash", "completion/_carrier-lock",
                "completion/carrier-lock.fish"}
        if (REPO / "LICENSE").exists():
            want.add("LICENSE")
        assert set(members) == {top} | {f"{top}/{w}" for w in want}
        for m in members.values():
            assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), m.name
            assert m.mtime == epoch, m.name
            # All krew can unpack: one link (kubectl-carrier_lock) and it refuses the lot.
            assert m.isdir() or m.isreg(), m.name
        assert members[f"{top}/carrier-lock"].mode == 0o755
        assert members[f"{top}/README.md"].mode == 0o644
        assert t.extractfile(f"{top}/carrier-lock").read() == (dist / top).read_bytes()
        assert t.extractfile(f"{top}/carrier-lock.1").read() == \
            (REPO / "docs" / "carrier-lock.1").read_bytes()
        notices = t.extractfile(f"{top}/THIRD-PARTY-NOTICES").read().decode()
        for who in ("BearSSL", "jsmn", "musl"):
            assert f"== {who}" in notices


@pytest.mark.parametrize("arch,machine", [("amd64", "Advanced Micro Devices X86-64"),
                                          ("arm64", "AArch64")])
def test_binaries_are_static_stripped_and_for_their_platform(releases, version, arch,
                                                            machine):
    b = releases[0] / f"carrier-lock-{version}-linux-{arch}"
    hdr = subprocess.run(["readelf", "-hlSdW", str(b)], capture_output=True, text=True).stdout
    assert f"Machine:                           {machine}" in hdr
    assert "INTERP" not in hdr
    assert "There is no dynamic section" in hdr
    assert ".symtab" not in hdr
    if arch == "amd64":
        # Today's size, rounded up to a page: it must not grow unnoticed.
        assert b.stat().st_size <= AMD64_CEILING, b.stat().st_size


# Issue 13's budget, met with every feature: 258,169 bytes (README "Size").
AMD64_CEILING = 64 * 4096		# 262,144 bytes
AMD64_BUDGET = 256 * 1024


def test_amd64_binary_within_the_256_kib_budget(releases, version):
    b = releases[0] / f"carrier-lock-{version}-linux-amd64"
    assert b.stat().st_size <= AMD64_BUDGET, b.stat().st_size


def version_lines(version, arch):
    return [f"carrier-lock {version}", f"commit: {git('rev-parse', 'HEAD')}",
            f"platform: linux/{arch}",
            f"bearssl: {pinned('BEARSSL_DEB_VERSION')} (Debian)",
            f"jsmn: {pinned('JSMN_DEB_VERSION')} (Debian)"]


def test_version_names_the_tree_commit_and_pinned_libraries(releases, version):
    b = releases[0] / f"carrier-lock-{version}-linux-amd64"
    r = subprocess.run([str(b), "--version"], capture_output=True, text=True)
    assert r.returncode == 0
    assert r.stdout.splitlines() == version_lines(version, "amd64")


@pytest.mark.skipif(QEMU is None, reason="qemu-user is not installed")
def test_arm64_binary_under_qemu_queries_takes_frees_and_runs(cluster, releases, version,
                                                            tmp_path):
    b = releases[0] / f"carrier-lock-{version}-linux-arm64"
    r = subprocess.run([QEMU, str(b), "--version"], capture_output=True, text=True)
    assert r.stdout.splitlines() == version_lines(version, "arm64")
    kc = cluster.kubeconfig("admin")
    name = unique_name("arm64")
    cl = f"{QEMU} {b}"
    # One shell, as a test script: it is the owner of acquire and of release.
    script = f"""set -e
{cl} query --kubeconfig {kc} --name {name}
{cl} acquire --kubeconfig {kc} --name {name} --max-wait-time 10s --print-token
{cl} query --kubeconfig {kc} --name {name}
{cl} release --kubeconfig {kc} --name {name}
{cl} query --kubeconfig {kc} --name {name}
{cl} run --kubeconfig {kc} --name {name} -- sh -c 'echo "token=$CARRIER_LOCK_TOKEN"'
{cl} query --kubeconfig {kc} --name {name}
echo "shell=$$"
"""
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "{}"
    token = int(out[1])
    held = out[2]
    assert f'"pid":"{out[-1].split("=")[1]}"' in held and f'"token":{token}' in held
    assert out[3] == "{}"
    assert out[4] == f"token={token + 1}"
    assert out[5] == "{}"
    assert cluster.kubectl("get", "configmap", name, "-o", "jsonpath={.data.fence}").stdout \
        == str(token + 1)


# --- the krew manifest, by krew itself -------------------------------------------------
# tests/krew/build.sh builds krew's tools at the release pinned in tests/krew/go.mod into
# build/krew (once; then it is a no-op): validate-krew-manifest, and kubectl-krew, which
# the validator runs as "kubectl krew install" (kubectl: the test cluster's, pinned too).
# Nothing is fetched from the network: the manifest's uris are pointed at a server on
# 127.0.0.1 that serves the release directory as RELEASE_URL would.

KREW_BIN = REPO / "build" / "krew"
KUBECTL = REPO / "tests" / "cluster" / "bin" / "kubectl"


def release_url():
    """The RELEASE_URL the release was built with: the environment's, else build.sh's."""
    default = re.search(r"^RELEASE_URL=\$\{RELEASE_URL:-(\S+)\}$",
                        (REPO / "build.sh").read_text(), re.M).group(1)
    return os.environ.get("RELEASE_URL") or default


@pytest.fixture(scope="module")
def krew_path():
    """A PATH with validate-krew-manifest, kubectl-krew and kubectl first. Go is required:
    without it tests/krew/build.sh fails, and so does every test that needs krew."""
    r = subprocess.run([str(REPO / "tests" / "krew" / "build.sh")], capture_output=True,
                       text=True, timeout=1800)
    if r.returncode != 0:
        pytest.fail(f"tests/krew/build.sh exited {r.returncode}:\n{r.stdout}{r.stderr}",
                    pytrace=False)
    if not KUBECTL.is_file():
        pytest.fail(f"{KUBECTL} is missing: run tests/cluster/build.sh", pytrace=False)
    return f"{KREW_BIN}:{KUBECTL.parent}:{os.environ['PATH']}"


def validate_krew_manifest(manifest, path, *flags):
    return subprocess.run([str(KREW_BIN / "validate-krew-manifest"), "-manifest",
                           str(manifest), *flags], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PATH": path})


def krew_says(r):
    """What krew's tools said went wrong: their klog warning, error and fatal lines (the
    output also holds every -v=4 step and Go stack traces), else the end of the output."""
    lines = [l.strip() for l in (r.stdout + r.stderr).splitlines()
             if re.match(r"\s*[WEF]\d{4} ", l)]
    return "\n".join(lines) or (r.stdout + r.stderr)[-3000:]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served_manifest(release, version, tmp_path_factory):
    """The release's carrier-lock.yaml with RELEASE_URL replaced by a server on 127.0.0.1
    that has the release directory at /VERSION/, as RELEASE_URL has it; nothing else of
    the manifest changes. The file keeps its name: krew takes the plugin's name from it."""
    base = release_url()
    text = (release / "carrier-lock.yaml").read_text()
    uris = re.findall(r"^\s+uri: (\S+)$", text, re.M)
    assert len(uris) == 2 and all(u.startswith(f"{base}/{version}/") for u in uris), uris
    root = tmp_path_factory.mktemp("krew-served")
    (root / version).symlink_to(release.resolve())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: QuietHandler(*a, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    manifest = tmp_path_factory.mktemp("krew-manifest") / "carrier-lock.yaml"
    manifest.write_text(re.sub(rf"^(\s+uri: ){re.escape(base)}/", rf"\g<1>{local}/", text,
                               flags=re.M))
    yield manifest
    server.shutdown()
    server.server_close()


def test_krew_validates_the_manifest(release, krew_path):
    """Name (from the file's), apiVersion, kind, semantic version, sha256 and bin present,
    os/arch selectors that each match a platform krew knows and never the same one."""
    r = validate_krew_manifest(release / "carrier-lock.yaml", krew_path, "-skip-install")
    assert r.returncode == 0, krew_says(r)
    assert "structural validation OK" in r.stderr
    assert "no overlapping spec.platform[].selector" in r.stderr


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_krew_installs_each_platform_from_the_release_url(release, version, krew_path,
                                                          served_manifest, tmp_path, arch):
    """What validate-krew-manifest's install step runs for each platform: krew downloads
    the tarball (checking its sha256), unpacks it, copies the manifest's files and links
    its bin as kubectl-carrier_lock; kubectl then runs the plugin."""
    env = {**os.environ, "PATH": krew_path, "KREW_ROOT": str(tmp_path / "krew"),
           "KREW_OS": "linux", "KREW_ARCH": arch, "KREW_NO_UPGRADE_CHECK": "1"}
    r = subprocess.run(["kubectl", "krew", "install", f"--manifest={served_manifest}"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, krew_says(r)
    link = tmp_path / "krew" / "bin" / "kubectl-carrier_lock"
    assert link.is_symlink()
    assert link.resolve().read_bytes() == \
        (release / f"carrier-lock-{version}-linux-{arch}").read_bytes()
    installed = {p.name for p in link.resolve().parent.iterdir()}
    want = {"carrier-lock", "carrier-lock.1", "THIRD-PARTY-NOTICES"}
    if (REPO / "LICENSE").exists():
        want.add("LICENSE")
    assert installed == want
    if arch == "amd64":
        r = subprocess.run(["kubectl", "carrier-lock", "--version"], capture_output=True,
                           text=True, timeout=60,
                           env={**os.environ, "PATH": f"{link.parent}:{krew_path}"})
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == version_lines(version, "amd64")


# git describe --tags --always --dirty (or CARRIER_LOCK_VERSION) and the spec.version krew
# gets: a tag, with or without its "v", as it is; git's "-N-gHASH" as the next patch's
# pre-release "dev.N" (after a pre-release tag: ".dev.N"), HASH and "-dirty" in the build;
# anything else as a pre-release of v0.0.0, in one identifier.
KREW_VERSIONS = [
    ("8679b6d", "v0.0.0-8679b6d"),
    ("8679b6d-dirty", "v0.0.0-8679b6d-dirty"),
    ("0123456", "v0.0.0-g0123456"),             # semver: no leading zero in a number
    ("0123456-dirty", "v0.0.0-0123456-dirty"),
    ("1234567", "v0.0.0-1234567"),
    ("unknown", "v0.0.0-unknown"),
    ("v0.3.0", "v0.3.0"),
    ("v0.3.0-dirty", "v0.3.0+dirty"),
    ("v0.3.0-12-gabc1234", "v0.3.1-dev.12+gabc1234"),
    ("v0.3.0-12-gabc1234-dirty", "v0.3.1-dev.12+gabc1234.dirty"),
    ("v0.3.0-0-gabc1234", "v0.3.0+gabc1234"),  # git describe --long at the tag
    ("0.3.0", "v0.3.0"),
    ("0.3.0-12-gabc1234-dirty", "v0.3.1-dev.12+gabc1234.dirty"),
    ("v1.0.0-rc.1", "v1.0.0-rc.1"),
    ("v1.0.0-rc.1-3-gabc1234", "v1.0.0-rc.1.dev.3+gabc1234"),
    ("v1.0.0+build.5", "v1.0.0+build.5"),
    ("v1.0.0+build.5-dirty", "v1.0.0+build.5.dirty"),
    ("v1.2", "v0.0.0-v1-2"),
    ("v1.2-3-gabc1234", "v0.0.0-v1-2-3-gabc1234"),
    ("v1.2.3.4", "v0.0.0-v1-2-3-4"),
    ("v01.2.3", "v0.0.0-v01-2-3"),
    ("v1.0.0-01", "v0.0.0-v1-0-0-01"),
    ("v1.0.0+a..b", "v0.0.0-v1-0-0-a--b"),
    ("release_1", "v0.0.0-release-1"),
    ("1.0~rc1", "v0.0.0-1-0-rc1"),
]


def semver_key(v):
    """Semantic Versioning 2.0.0 precedence (section 11) of "vX.Y.Z[-pre][+build]"."""
    core, _, pre = v[1:].partition("+")[0].partition("-")
    ids = [(0, int(i), "") if i.isdigit() else (1, 0, i) for i in pre.split(".")] if pre else []
    return tuple(int(n) for n in core.split(".")), not ids, tuple(ids)


def test_krew_orders_builds_as_git_does():
    """What git describes, in the order the commits were made, is the order krew sees (an
    upgrade goes forward): a build past a tag sorts after it and before the next one; a
    build at a tag, or a dirty one, has the tag's precedence."""
    def krew(described):
        r = subprocess.run(["bash", "-c", 'source <(sed -n "/^krew_version()/,/^}/p" "$0"); '
                            "krew_version", str(REPO / "build.sh")], capture_output=True,
                           text=True, timeout=30, env={**os.environ, "VERSION": described})
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()
    history = ["v0.3.0-rc.1", "v0.3.0-rc.1-2-gabc1234", "v0.3.0-rc.2", "v0.3.0",
               "v0.3.0-1-gabc1234", "v0.3.0-12-gdef5678", "v0.3.1", "v0.10.0-3-g0a1b2c3",
               "v1.0.0"]
    keys = [semver_key(krew(d)) for d in history]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), list(zip(history, keys))
    assert semver_key(krew("v0.3.0-dirty")) == semver_key(krew("v0.3.0-0-gabc1234")) == \
        semver_key("v0.3.0")


@pytest.mark.parametrize("described,semver", KREW_VERSIONS)
def test_krew_takes_the_manifest_of_every_kind_of_version(krew_path, tmp_path, described,
                                                         semver):
    """./build.sh krew-manifest over stand-in tarballs of that version: the version krew
    gets, and its validator's verdict on the whole manifest."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for arch in ("amd64", "arm64"):
        (dist / f"carrier-lock-{described}-linux-{arch}.tar.gz").write_bytes(arch.encode())
    r = subprocess.run([str(REPO / "build.sh"), "krew-manifest"], capture_output=True,
                       text=True, timeout=60,
                       env={**os.environ, "DIST": str(dist), "CARRIER_LOCK_VERSION": described,
                            "CARRIER_LOCK_COMMIT": "0" * 40})
    assert r.returncode == 0, r.stderr
    manifest = tmp_path / "carrier-lock.yaml"
    manifest.write_text(r.stdout)
    v = validate_krew_manifest(manifest, krew_path, "-skip-install")
    assert v.returncode == 0, krew_says(v)
    assert re.search(r"^  version: (\S+)$", r.stdout, re.M).group(1) == semver


class KrewWantsALicense(Exception):
    """validate-krew-manifest installed a platform and then found no LICENSE among its
    files (krew's index requires one)."""


@pytest.mark.xfail(not (REPO / "LICENSE").exists(), raises=KrewWantsALicense, strict=True,
                   reason="the tree has no LICENSE, which krew's validator requires in "
                          "the installed files")
def test_validate_krew_manifest_installs_every_platform(served_manifest, krew_path):
    """The validator's full run: every check above, then "kubectl krew install" of each
    platform in a KREW_ROOT of its own, then a LICENSE (or alike) among the files."""
    r = validate_krew_manifest(served_manifest, krew_path)
    if r.returncode != 0 and "failed to install: LICENSE (or alike) file is not " \
            "extracted" in r.stderr and "could not find license file among" in r.stderr:
        raise KrewWantsALicense(krew_says(r))
    assert r.returncode == 0, krew_says(r)
    assert "all 2 spec.platforms installed fine" in r.stderr


# --- the man page agrees with --help ---------------------------------------------------

def help_sections():
    text = subprocess.run([str(REPO / "carrier-lock"), "--help"], capture_output=True,
                          text=True).stdout
    sec = {}
    cur = None
    for line in text.splitlines():
        if re.fullmatch(r"[A-Z][a-z ]+:", line):
            cur = line[:-1]
            sec[cur] = []
        elif cur:
            sec[cur].append(line)
    return sec


def man_section(src, name):
    return src.split(f".Sh {name}\n")[1].split("\n.Sh ")[0]


def test_man_page_passes_mandoc_lint_and_man_renders_it():
    page = REPO / "docs" / "carrier-lock.1"
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", str(page)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                       env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "80"})
    assert r.returncode == 0, r.stderr
    assert "carrier-lock - cluster-wide mutex" in r.stdout.replace("\u2014", "-") or \
        "carrier-lock \u2014 cluster-wide mutex" in r.stdout
    assert "EXIT STATUS" in r.stdout


def test_man_page_agrees_with_help_on_actions_flags_and_exit_codes():
    sec = help_sections()
    src = (REPO / "docs" / "carrier-lock.1").read_text()
    desc = man_section(src, "DESCRIPTION")

    help_actions = [m.group(1) for l in sec["Actions"] if (m := re.match(r"  ([a-z-]+)", l))]
    man_actions = re.findall(r"^\.It Cm (\S+)$", desc, re.M)
    assert man_actions == help_actions

    help_flags = set()
    for l in sec["Flags"]:
        if m := re.match(r"  (-[\w-]+)(?:, (--[\w-]+))?", l):
            help_flags.update(x for x in m.groups() if x)
    man_flags = set()
    for item in re.findall(r"^\.It (Fl .*)$", desc, re.M):
        for f in re.findall(r"Fl (-?[A-Za-z][\w-]*)", item):
            man_flags.add("-" + f)     # "Fl -name" is --name, "Fl n" is -n
    assert man_flags == help_flags

    help_codes = [m.group(1) for l in sec["Exit codes"] if (m := re.match(r"  (\d+|128\+N) ", l))]
    man_codes = re.findall(r"^\.It (\d+|128\+N)$", man_section(src, "EXIT STATUS"), re.M)
    assert man_codes == help_codes


# --- the container image ----------------------------------------------------------------

def test_dockerfile_is_from_scratch_with_only_the_binary():
    """Static, and built and run where a docker daemon answers (the development machine
    has none). test_connect.py's chroot test runs the binary in an empty root, as the
    image does."""
    lines = [l.strip() for l in (REPO / "Dockerfile").read_text().splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    assert [l for l in lines if l.startswith("FROM")] == ["FROM scratch"]
    assert "COPY ${BIN} /carrier-lock" in lines
    assert [l for l in lines if l.startswith(("COPY", "ADD", "RUN"))] == \
        ["COPY ${BIN} /carrier-lock"]
    assert 'ENTRYPOINT ["/carrier-lock"]' in lines
    assert "ARG BIN=carrier-lock" in lines
    ignore = (REPO / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*"):] == ["*", "!carrier-lock", "!dist/carrier-lock-*-linux-*"]
    if shutil.which("docker") and subprocess.run(["docker", "info"],
                                                 capture_output=True).returncode == 0:
        tag = unique_name("carrier-lock-test")
        r = subprocess.run(["docker", "build", "-q", "-t", tag, str(REPO)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True,
                           text=True, timeout=120)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
        assert r.stdout.startswith("carrier-lock ")


def test_as_pid_1_acquire_needs_an_owner_and_query_works(cluster):
    """The image's entry point is PID 1, whose parent is 0: acquire refuses to record that
    (nothing is sent), --pid gives an owner, query needs none. unshare gives a PID
    namespace as a container runtime does."""
    from lockutil import BIN, Lock
    lock = Lock(cluster)
    pid1 = ["unshare", "-fp", "--mount-proc", BIN]
    r = subprocess.run(pid1 + lock.args("acquire", "--max-wait-time", "0"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "no calling process" in r.stderr and "--pid" in r.stderr
    assert lock.configmap() is None
    r = subprocess.run(pid1 + lock.args("acquire", "--max-wait-time", "0", pid=4242),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(pid1 + lock.args("query"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and '"pid":"4242"' in r.stdout
    assert lock.do("release", pid=4242).returncode == 0
