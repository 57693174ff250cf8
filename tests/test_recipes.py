"""The CI recipes of docs/CI.md, run the way each runner runs them (issue 10, item 5).

The commands come from the code blocks of docs/CI.md (the Jenkinsfiles, .gitlab-ci.yml,
the workflow, the Makefile, perf.sh, the cron line), so what the docs show is what runs.
Each runner is simulated in a few lines, faithfully where it matters for a lock:

- Jenkins: each `sh` step writes its script to a file and runs `sh -xe script.sh` with the
  build's environment (BUILD_TAG, BUILD_URL, JOB_NAME, BUILD_NUMBER, JENKINS_URL,
  JENKINS_NODE_COOKIE, and the step's own JENKINS_SERVER_COOKIE), output to a log file;
  `post { always }` runs after a failed or aborted stage. Aborting stops the running step
  (SIGTERM, then SIGKILL after 5 s, to the processes with its JENKINS_SERVER_COOKIE, as
  durable-task does); when the build's node block ends, every process with its
  JENKINS_NODE_COOKIE gets the same (the ProcessTreeKiller, which finds them by their
  environment in /proc/PID/environ).
- GitLab: all `script` lines in one bash (`set -eo pipefail`, each line echoed), in a
  process group and session of its own; `after_script` in another one, also after a
  failure or a cancel. Canceling kills the script's process group (SIGKILL).
- GitHub Actions: each `run:` step is a script file run by
  `bash --noprofile --norc -eo pipefail FILE`, output read until every writer closed it (5 s
  after the step ended at most, as the runner does); `if: always()` steps run after a
  failure or a cancel. Canceling sends the step's process SIGINT, 7.5 s later SIGTERM,
  2.5 s later SIGKILL; at the end of the job every process with the job's
  RUNNER_TRACKING_ID is killed (the runner's orphan cleanup).
- make, and a script: started in a session of their own, as a terminal or a CI starts a
  job; aborted by a signal to the whole process group (Ctrl-C is SIGINT to it).
- The periodic cleanup: the docs' cleanup job of that runner (or the cron line), run over
  and over.

Every test uses a lock of its own (the docs' `carrier-lock` is a wrapper that adds
`--name`), a short ttl (`--ttl 2m` becomes 1m, 3s or 2s) and waits of 90 s (`2h` in the
docs). Each heavy "test" appends enter/tick/leave lines with timestamps to one shared
file; assert_no_overlap reads it.
"""
import errno
import itertools
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from lockutil import BIN, Lock, alive

try:
    import yaml     # only to cross-check the small YAML readers below, when installed
except ImportError:     # pragma: no cover
    yaml = None

pytestmark = pytest.mark.usefixtures("cluster")

REPO = pathlib.Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "CI.md").read_text()
HEAVY = REPO / "tests" / "recipes" / "heavy_test.py"

STEP_TIMEOUT = 150          # a step that waits for the lock waits 90 s at most
JENKINS_SOFT_KILL = 5.0     # ProcessTree: SIGTERM, then SIGKILL after 5 s
GITHUB_SIGINT_WAIT = 7.5    # the runner's ProcessInvoker: SIGINT, 7.5 s, SIGTERM, 2.5 s
GITHUB_SIGTERM_WAIT = 2.5
GITHUB_STREAM_WAIT = 5.0    # output still open 5 s after the step's process ended
GITHUB_POST_STEPS = 1.0     # actions' post steps before the orphan cleanup (about 1 s)


# The docs' code blocks.

def doc_block(comment):
    """The code block of docs/CI.md that begins with COMMENT (on its first or, after a
    #! line, its second line)."""
    found = [b for b in re.findall(r"^```\w*\n(.*?)^```$", DOC, re.S | re.M)
             if comment in [ln.strip() for ln in b.split("\n")[:2]]]
    assert len(found) == 1, f"docs/CI.md: {len(found)} code blocks begin with {comment!r}"
    return found[0]


def jenkins_steps(text):
    """The `sh '...'` scripts of a declarative Jenkinsfile: (stages', post's)."""
    stages, _, post = text.partition("\n    post {")
    sh = re.compile(r"^\s*sh '([^']*)'\s*$", re.M)
    return sh.findall(stages), sh.findall(post)


def gitlab_job(text, job):
    """{keyword: [lines]} of JOB's before_script/script/after_script in a .gitlab-ci.yml."""
    out, key, inside = {}, None, False
    for line in text.splitlines():
        if re.match(r"\S", line):
            inside, key = line == f"{job}:", None
        elif inside and (m := re.match(r"  (\w+):\s*(.*)$", line)):
            key = m.group(1) if m.group(1).endswith("script") and not m.group(2) else None
            if key:
                out[key] = []
        elif inside and key and (m := re.match(r"    - (.*)$", line)):
            out[key].append(m.group(1))
    if yaml is not None:
        parsed = yaml.safe_load(text)[job]
        assert {k: v for k, v in parsed.items() if k.endswith("script")} == out
    return out


def github_steps(text):
    """The steps of the one job of a workflow: [{'name':, 'if':, 'run':, 'uses':}]."""
    steps, inside = [], False
    for line in text.splitlines():
        if line.strip() == "steps:":
            inside = True
        elif inside and (m := re.match(r"      - ([\w-]+): (.*)$", line)):
            steps.append({m.group(1): m.group(2)})
        elif inside and (m := re.match(r"        ([\w-]+): (.*)$", line)):
            steps[-1][m.group(1)] = m.group(2)
    if yaml is not None:
        parsed = yaml.safe_load(text)["jobs"]
        assert list(parsed.values())[0]["steps"] == steps
    return steps


def adapt(text, ttl):
    """The docs' waits and leases, shortened for a test."""
    return text.replace("--max-wait-time 2h", "--max-wait-time 90s").replace(
        "--ttl 2m", f"--ttl {ttl}")


# Processes.

def procs_with_env(name, value):
    """Live processes whose environment has NAME=VALUE, found as Jenkins' ProcessTreeKiller
    and the GitHub runner's orphan cleanup find them: by /proc/PID/environ."""
    want = f"{name}={value}".encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            env = pathlib.Path(f"/proc/{d}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if want in env and alive(int(d)):
            pids.append(int(d))
    return pids


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_for(pred, timeout, what, pipelines=()):
    """PRED's first true value; fails at once when one of PIPELINES failed."""
    t0 = time.monotonic()
    while True:
        v = pred()
        if v:
            return v
        for p in pipelines:
            assert p.error is None, f"{p.id}: {p.error!r}"
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def kill_soft_then_hard(find, grace):
    """SIGTERM to what find() returns, then SIGKILL to whatever is left after GRACE."""
    signal_all(find(), signal.SIGTERM)
    t0 = time.monotonic()
    while find() and time.monotonic() - t0 < grace:
        time.sleep(0.05)
    signal_all(find(), signal.SIGKILL)
    wait_for(lambda: not find(), 10, "the killed processes to end")


class Proc:
    """A step's process, as a runner starts it and waits for it."""

    def __init__(self, argv, env, cwd, new_session=False, outfile=None):
        # Another pipeline's thread may fork while this one's step script is still open
        # for writing: that child holds it until its own exec, and exec here gets
        # ETXTBSY. A runner that writes its scripts under a lock never sees that.
        for attempt in range(50):
            try:
                self.p = subprocess.Popen(argv, env=env, cwd=cwd,
                                          start_new_session=new_session,
                                          stdin=subprocess.DEVNULL,
                                          stdout=outfile or subprocess.PIPE,
                                          stderr=subprocess.STDOUT)
                break
            except OSError as e:
                if e.errno != errno.ETXTBSY or attempt == 49:
                    raise
                time.sleep(0.02)
        self.out = []
        self.reader = None
        if outfile is None:
            self.reader = threading.Thread(target=self._read, daemon=True)
            self.reader.start()

    def _read(self):
        for chunk in iter(lambda: self.p.stdout.read1(65536), b""):
            self.out.append(chunk)

    def finish(self, stream_wait=GITHUB_STREAM_WAIT):
        """(status, output, held_open): held_open when the output was still open
        STREAM_WAIT after the process ended (something it started kept it)."""
        try:
            rc = self.p.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            self.out.append(b"\n[the runner killed this step: it ran too long]\n")
        held = False
        if self.reader is not None:
            self.reader.join(stream_wait)
            held = self.reader.is_alive()
        return rc, b"".join(self.out).decode(errors="replace"), held


# The site: one lock, one shared log, one PATH with the docs' `carrier-lock`.

CI_PREFIXES = ("CI_", "GITHUB_", "GITLAB_", "RUNNER_", "JENKINS_", "BUILD_", "HEAVY_")


class Site:
    def __init__(self, cluster, dir):
        self.lock = Lock(cluster)
        self.dir = pathlib.Path(dir)
        self.tag = uuid.uuid4().hex
        self.log = self.dir / "heavy.log"
        self.log.touch()
        bin = self.dir / "bin"
        bin.mkdir()
        wrapper = bin / "carrier-lock"
        # exec: the PID and so the parent of carrier-lock stay those of the docs' command.
        wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(BIN)} --name {self.lock.name} "
                           '"$@"\n')
        wrapper.chmod(0o755)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(CI_PREFIXES) and k not in ("CI", "KUBECONFIG", "JOB_NAME")}
        base["PATH"] = f"{bin}:{base.get('PATH', '/usr/bin:/bin')}"
        base["PERF_KUBECONFIG"] = cluster.kubeconfig()
        base["HEAVY_LOG"] = str(self.log)
        base["RECIPE_SITE"] = self.tag      # every process of this test: killed at its end
        self.base_env = base
        self.serial = itertools.count(100)

    def workspace(self, name):
        ws = self.dir / name
        ws.mkdir()
        heavy = ws / "run-heavy-test.sh"
        heavy.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {HEAVY} \"$@\"\n")
        heavy.chmod(0o755)
        return ws

    def leftovers(self):
        return procs_with_env("RECIPE_SITE", self.tag)


@pytest.fixture
def site(cluster, tmp_path):
    s = Site(cluster, tmp_path)
    yield s
    signal_all(s.leftovers(), signal.SIGKILL)


# The runners.

class Step:
    def __init__(self, name, rc, out, held_open, always):
        self.name, self.rc, self.out, self.held_open = name, rc, out, held_open
        self.always = always

    def __repr__(self):
        return f"<step {self.name!r} rc={self.rc}>\n{self.out}"


class Pipeline:
    """One job: its steps in order, on a thread of its own. steps() gives
    (name, script, runs_always); run_step() runs one the runner's way."""
    kind = None

    def __init__(self, site, n, job="perf", ttl="1m", heavy=1.0, heavy_exit=0, between=None):
        self.site, self.n, self.job, self.ttl = site, n, job, ttl
        self.id = f"{self.kind}-{job}-{n}"
        self.ws = site.workspace(self.id)
        self.env = dict(site.base_env, HEAVY_ID=self.id, HEAVY_SECONDS=str(heavy),
                        HEAVY_EXIT=str(heavy_exit), **self.job_env())
        self.between = between
        self.steps_run = []
        self.canceled = False       # the runner aborts the job: its always-steps still run
        self.lost = False           # nothing of the job runs any more
        self.error = None
        self.thread = None

    def job_env(self):
        return {}

    def run(self):
        try:
            failed = False
            for name, script, always in self.steps():
                if self.lost:
                    return
                if not always and (failed or self.canceled):
                    continue
                rc, out, held = self.run_step(name, script)
                self.steps_run.append(Step(name, rc, out, held, always))
                failed = failed or rc != 0
                if self.between is not None and not self.lost:
                    self.between(self, name)
            if not self.lost:
                self.end()
        except Exception as e:      # reported by join()
            self.error = e
            raise

    def end(self):
        """What the runner does when the job is over."""

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def join(self, timeout=STEP_TIMEOUT * 2):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.id} did not finish"
        assert self.error is None, f"{self.id}: {self.error!r}"
        return self

    def processes(self):
        return procs_with_env("HEAVY_ID", self.id)

    def assert_succeeded(self):
        for s in self.steps_run:
            assert s.rc == 0, s
        self.assert_nothing_held_open()

    def assert_nothing_held_open(self):
        for s in self.steps_run:
            assert not s.held_open, f"a process left by the step kept its output open: {s}"


class Jenkins(Pipeline):
    kind = "jenkins"

    def job_env(self):
        name = "perf" if self.job == "perf" else "carrier-lock-cleanup"
        n = str(self.n)
        return {"JENKINS_URL": "https://jenkins.example/", "JOB_NAME": name,
                "BUILD_NUMBER": n, "BUILD_ID": n, "BUILD_TAG": f"jenkins-{name}-{n}",
                "BUILD_URL": f"https://jenkins.example/job/{name}/{n}/",
                "JENKINS_NODE_COOKIE": uuid.uuid4().hex, "WORKSPACE": str(self.ws),
                "NODE_NAME": "perf4", "EXECUTOR_NUMBER": "0"}

    def steps(self):
        text = doc_block("// Jenkinsfile" if self.job == "perf" else
                         "// Jenkinsfile of the job carrier-lock-cleanup")
        stages, post = jenkins_steps(adapt(text, self.ttl))
        return [(s, s, False) for s in stages] + [(s, s, True) for s in post]

    def run_step(self, name, script):
        d = self.ws.parent / f"{self.ws.name}@tmp" / f"durable-{uuid.uuid4().hex[:8]}"
        d.mkdir(parents=True)
        (d / "script.sh").write_text(script + "\n")
        self.step_cookie = d.name
        with open(d / "jenkins-log.txt", "wb") as log:
            proc = Proc(["sh", "-xe", str(d / "script.sh")],
                        dict(self.env, JENKINS_SERVER_COOKIE=d.name), self.ws, outfile=log)
            rc, _, held = proc.finish()
        return rc, (d / "jenkins-log.txt").read_text(errors="replace"), held

    def abort(self, how):
        if how == "abort":          # the Abort button: stop the running step; post runs
            self.canceled = True
            kill_soft_then_hard(
                lambda: procs_with_env("JENKINS_SERVER_COOKIE", self.step_cookie),
                JENKINS_SOFT_KILL)
        elif how == "kill-build":   # the ProcessTreeKiller on all of the build, no post
            self.lost = True
            kill_soft_then_hard(lambda: procs_with_env("BUILD_TAG", self.env["BUILD_TAG"]),
                                JENKINS_SOFT_KILL)
        elif how == "sigkill":      # every process SIGKILLed, no post (agent lost)
            self.lost = True
            signal_all(procs_with_env("BUILD_TAG", self.env["BUILD_TAG"]), signal.SIGKILL)
        else:
            raise ValueError(how)

    def end(self):
        # The node block ends: what the build left behind is killed.
        kill_soft_then_hard(
            lambda: procs_with_env("JENKINS_NODE_COOKIE", self.env["JENKINS_NODE_COOKIE"]),
            JENKINS_SOFT_KILL)


class GitLab(Pipeline):
    kind = "gitlab"

    def job_env(self):
        job_id = str(7000 + self.n)
        return {"CI": "true", "GITLAB_CI": "true", "CI_JOB_ID": job_id,
                "CI_JOB_NAME": self.job, "CI_PROJECT_PATH": "group/perf",
                "CI_JOB_URL": f"https://gitlab.example/group/perf/-/jobs/{job_id}",
                "CI_PIPELINE_ID": str(900 + self.n), "CI_PROJECT_DIR": str(self.ws),
                "CI_COMMIT_REF_NAME": "main",
                "CI_PIPELINE_SOURCE": "push" if self.job == "perf" else "schedule"}

    def steps(self):
        job = gitlab_job(adapt(doc_block("# .gitlab-ci.yml"), self.ttl),
                         "perf" if self.job == "perf" else "carrier-lock-cleanup")
        steps = [("script", job["script"], False)]
        if "after_script" in job:
            steps.append(("after_script", job["after_script"], True))
        return steps

    def run_step(self, name, lines):
        body = "".join(f"echo {shlex.quote('$ ' + line)}\n{line}\n" for line in lines)
        path = self.ws.parent / f"{self.ws.name}.tmp" / f"{name}.sh"
        path.parent.mkdir(exist_ok=True)
        path.write_text("set -eo pipefail\nset +o noclobber\n" + body)
        proc = Proc(["bash", str(path)], self.env, self.ws, new_session=True)
        self.pgid = proc.p.pid
        return proc.finish()

    def abort(self, how):
        if how == "cancel":         # the script's process group killed; after_script runs
            self.canceled = True
        elif how == "sigkill":      # the same, and no after_script (GitLab before 17.0)
            self.lost = True
        else:
            raise ValueError(how)
        os.killpg(self.pgid, signal.SIGKILL)


class GitHub(Pipeline):
    kind = "github"
    uses = False

    def job_env(self):
        return {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": str(5000 + self.n),
                "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": self.job,
                "GITHUB_REPOSITORY": "org/perf", "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_WORKSPACE": str(self.ws), "GITHUB_REF_NAME": "main",
                "RUNNER_TEMP": str(self.ws.parent / f"{self.ws.name}._temp"),
                "RUNNER_TRACKING_ID": f"github_{uuid.uuid4()}"}

    def steps(self):
        if self.job != "perf":
            runs = re.findall(r"`run: (carrier-lock cleanup [^`]*)`", DOC)
            assert len(runs) == 1, runs
            return [("cleanup", runs[0], False)]
        out = []
        for s in github_steps(adapt(doc_block("# .github/workflows/perf.yml"), self.ttl)):
            if "uses" in s:
                self.uses = True    # actions/checkout: the workspace is already there
                continue
            assert s.get("if") in (None, "always()"), s
            out.append((s["name"], s["run"], s.get("if") == "always()"))
        return out

    def run_step(self, name, script):
        temp = pathlib.Path(self.env["RUNNER_TEMP"])
        temp.mkdir(exist_ok=True)
        path = temp / f"{uuid.uuid4()}.sh"
        path.write_text(script + "\n")
        self.proc = Proc(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
                         self.env, self.ws)
        return self.proc.finish()

    def abort(self, how):
        if how == "cancel":
            self.canceled = True
            pid = self.proc.p.pid
            for sig, wait in ((signal.SIGINT, GITHUB_SIGINT_WAIT),
                              (signal.SIGTERM, GITHUB_SIGTERM_WAIT), (signal.SIGKILL, 10)):
                signal_all([pid], sig)
                t0 = time.monotonic()
                while alive(pid) and time.monotonic() - t0 < wait:
                    time.sleep(0.05)
                if not alive(pid):
                    break
        elif how == "sigkill":      # the runner machine lost: everything SIGKILLed
            self.lost = True
            signal_all(procs_with_env("RUNNER_TRACKING_ID", self.env["RUNNER_TRACKING_ID"]),
                       signal.SIGKILL)
        else:
            raise ValueError(how)

    def end(self):
        # The post steps of the actions used (actions/checkout's "Post Run"), then
        # "Cleaning up orphan processes".
        if self.uses:
            time.sleep(GITHUB_POST_STEPS)
        signal_all(procs_with_env("RUNNER_TRACKING_ID", self.env["RUNNER_TRACKING_ID"]),
                   signal.SIGKILL)


class Group(Pipeline):
    """A command in a session of its own (a terminal's job, a CI job's command);
    aborted by a signal to its process group."""

    def run_step(self, name, argv):
        proc = Proc(argv, self.env, self.ws, new_session=True)
        self.pgid = proc.p.pid
        return proc.finish()

    def abort(self, how):
        sig = getattr(signal, how)
        if sig == signal.SIGKILL:
            self.lost = True
        os.killpg(self.pgid, sig)


class Make(Group):
    """`make perf` (run --) for odd n, `make perf-line` (one line) for even n."""
    kind = "make"

    def steps(self):
        (self.ws / "Makefile").write_text(adapt(doc_block("# Makefile"), self.ttl))
        target = "perf" if self.n % 2 else "perf-line"
        return [(f"make {target}", ["make", target], False)]


class Script(Group):
    kind = "script"

    def steps(self):
        path = self.ws / "perf.sh"
        path.write_text(adapt(doc_block("# perf.sh: takes the lock, runs the test, and gives "
                                        "the lock back however the script ends."), self.ttl))
        path.chmod(0o755)
        return [("./perf.sh", ["./perf.sh"], False)]


class Cron(Group):
    """The cron line of the docs, run as cron does (`/bin/sh -c COMMAND`)."""
    kind = "cron"

    def steps(self):
        line = [ln for ln in doc_block("# /etc/cron.d/carrier-lock-cleanup").splitlines()
                if ln and not ln.startswith("#")]
        assert len(line) == 1, line
        cmd = line[0].split(None, 6)[6].replace("/etc/carrier-lock/perf4.kubeconfig",
                                                shlex.quote(self.env["PERF_KUBECONFIG"]))
        return [("cron", ["/bin/sh", "-c", cmd], False)]


RUNNERS = {"jenkins": Jenkins, "gitlab": GitLab, "github": GitHub, "make": Make,
           "script": Script}
CLEANUP_JOBS = {"jenkins": Jenkins, "gitlab": GitLab, "github": GitHub, "make": Cron,
                "script": Cron}


def cleanup_job(site, kind):
    """One run of the periodic cleanup job of that runner: its output."""
    job = CLEANUP_JOBS[kind](site, next(site.serial), job="cleanup")
    job.run()
    s = job.steps_run[0]
    assert s.rc == 0, s
    return s.out


class Periodic:
    """The periodic cleanup job, run again and again (0.2 s apart) until stopped."""

    def __init__(self, site, kind):
        self.site, self.kind, self.outputs = site, kind, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping.is_set():
            self.outputs.append(cleanup_job(self.site, self.kind))
            self.stopping.wait(0.2)

    def stop(self):
        self.stopping.set()
        self.thread.join(60)
        assert self.outputs, "the periodic cleanup never ran"
        for out in self.outputs:
            assert "cleaned up" not in out, out
        return self.outputs


# The shared log of the heavy tests.

def read_log(site):
    rows = []
    for line in site.log.read_text().splitlines():
        word, job, t, pid = line.split()
        rows.append((word, job, float(t)))
    return rows


def entered(site, job):
    for word, j, t in read_log(site):
        if word == "enter" and j == job:
            return t
    return None


def assert_no_overlap(site, jobs):
    """Every job's section (its first line to its last, in the file's order, which is the
    order of the writes) is disjoint from every other's, and the clock agrees."""
    rows = read_log(site)
    spans = {}
    for i, (word, job, t) in enumerate(rows):
        spans.setdefault(job, [i, i])[1] = i
    assert sorted(spans) == sorted(jobs), (spans, jobs)
    order = sorted(spans.items(), key=lambda kv: kv[1][0])
    text = site.log.read_text()
    for (a, (_, a_last)), (b, (b_first, _)) in zip(order, order[1:]):
        assert a_last < b_first, f"{a} and {b} overlap:\n{text}"
        assert rows[a_last][2] <= rows[b_first][2], f"{a} and {b} overlap:\n{text}"
    return [job for job, _ in order]


def sections_ended(site, job):
    return [w for w, j, _ in read_log(site) if j == job and w == "leave"]


# 1. Two pipelines racing: never both in the heavy step; both finish.

@pytest.mark.parametrize("kind", list(RUNNERS))
def test_racing_pipelines_never_overlap_and_both_finish(site, kind):
    # b's heavy test fails: its release (post, after_script, always(), the trap, run)
    # must still give the lock back, or a would wait in vain.
    a = RUNNERS[kind](site, 1, heavy=1.0)
    b = RUNNERS[kind](site, 2, heavy=1.0, heavy_exit=1)
    cleanup = Periodic(site, kind)
    try:
        a.start()
        b.start()
        a.join()
        b.join()
    finally:
        cleanup.stopping.set()  # also when a pipeline failed: no loop runs on after it
    cleanup.stop()
    assert_no_overlap(site, [a.id, b.id])
    assert sections_ended(site, a.id) and sections_ended(site, b.id)
    a.assert_succeeded()
    b.assert_nothing_held_open()
    assert any(s.rc != 0 for s in b.steps_run), b.steps_run
    if kind in ("jenkins", "gitlab", "github"):
        for p in (a, b):    # post, after_script, if: always(): the release ran and freed it
            release = [s for s in p.steps_run if s.always]
            assert len(release) == 1 and release[0].rc == 0, p.steps_run
            assert "released lock" in release[0].out, release[0]
    assert site.lock.query() == {}
    wait_for(lambda: not a.processes() and not b.processes(), 10, "no process of the jobs left")


# 2. A pipeline aborted the way its runner aborts frees the lock: at once when the keeper,
#    run or the trap gets to release (ttl 1m: only a release frees it in time), within the
#    ttl (3s) when everything is SIGKILLed, or by the periodic cleanup for a plain script.

ABORTS = [
    ("jenkins", "abort", "at once"),
    ("jenkins", "kill-build", "at once"),
    ("jenkins", "sigkill", "ttl"),
    ("gitlab", "cancel", "at once"),
    ("gitlab", "sigkill", "ttl"),
    ("github", "cancel", "at once"),
    ("github", "sigkill", "ttl"),
    ("make", "SIGINT", "at once"),
    ("make", "SIGTERM", "at once"),
    ("make", "SIGKILL", "ttl"),
    ("script", "SIGINT", "at once"),
    ("script", "SIGTERM", "at once"),
    ("script", "SIGHUP", "at once"),
    ("script", "SIGKILL", "cleanup"),
]
TTL_SECONDS = 3


@pytest.mark.parametrize("kind,how,freed", ABORTS, ids=[f"{k}-{h}" for k, h, _ in ABORTS])
def test_an_aborted_pipeline_frees_the_lock(site, kind, how, freed):
    ttl = f"{TTL_SECONDS}s" if freed == "ttl" else "1m"
    a = RUNNERS[kind](site, 1, ttl=ttl, heavy=60)
    b = RUNNERS[kind](site, 2, ttl=ttl, heavy=0.5)
    a.start()
    wait_for(lambda: entered(site, a.id), 30, f"{a.id}'s heavy test", [a])
    b.start()               # the next pipeline, waiting for the lock
    wait_for(lambda: b.steps_run or b.processes(), 10, f"{b.id} to start", [b])
    time.sleep(0.5)
    assert entered(site, b.id) is None
    t0 = time.time()
    a.abort(how)
    if freed == "cleanup":
        wait_for(lambda: not a.processes(), 10, f"{a.id}'s processes to end")
        out = cleanup_job(site, kind)
        assert "cleaned up" in out, out
    took = wait_for(lambda: entered(site, b.id), TTL_SECONDS + 30, f"{b.id} to get the lock",
                    [a, b]) - t0
    a.join()
    b.join()
    assert_no_overlap(site, [a.id, b.id])
    bound = TTL_SECONDS + 10 if freed == "ttl" else 10
    assert took < bound, f"{b.id} got the lock {took:.1f} s after {a.id} was aborted ({how})"
    assert not sections_ended(site, a.id)
    b.assert_succeeded()
    waiter = b.steps_run[0].out
    if freed == "ttl":
        assert "expired" in waiter, waiter
    else:
        assert "expired" not in waiter, waiter
    assert site.lock.query() == {}
    wait_for(lambda: not a.processes(), 10, f"no process of {a.id} left")


HOLDER = {
    "jenkins": {"keeper": True, "owner": "jenkins:jenkins-perf-1", "reason": "nightly perf",
                "ci-job": "perf #1", "ci-url": "https://jenkins.example/job/perf/1/"},
    "gitlab": {"keeper": True, "owner": "gitlab:group/perf/7001", "reason": "perf main",
               "ci-job": "group/perf",
               "ci-url": "https://gitlab.example/group/perf/-/jobs/7001"},
    "github": {"keeper": True, "owner": "github:org/perf/5001/1/perf", "reason": "perf main",
               "ci-url": "https://github.example/org/perf/actions/runs/5001"},
    "make": {},
    "script": {"reason": "perf.sh"},
}


# 3. The periodic cleanup, between the steps and all through the heavy test (longer than
#    the ttl, so the lease must be renewed), never frees a live pipeline's lock.

@pytest.mark.parametrize("kind", list(RUNNERS))
def test_periodic_cleanup_never_frees_a_live_pipelines_lock(site, kind):
    lock = site.lock
    held = []           # (what, record) whenever the pipeline holds the lock

    def check(what):
        before = lock.query()
        if not before:
            return
        out = cleanup_job(site, kind)
        after = lock.query()
        assert "cleaned up" not in out, out
        if after.get("token") != before["token"]:
            # Released in between: only by the pipeline itself, after its heavy test.
            assert after == {} and sections_ended(site, a.id), (what, before, after, out)
            return
        assert "left alone" in out, out
        held.append((what, after))
        # Another job that tries once does not get it.
        other = lock.do("acquire", "--max-wait-time", "0", "--owner", "another-job")
        done = time.time()
        if other.returncode == 0:
            lock.do("release", "--owner", "another-job")
            # Only right if the pipeline had released meanwhile, after its heavy test.
            leave = [t for w, j, t in read_log(site) if j == a.id and w == "leave"]
            assert leave and leave[0] < done, ("another job got a held lock", other.stderr)
        else:
            assert other.returncode == 3, other.stderr

    a = RUNNERS[kind](site, 1, ttl="2s", heavy=3.0,
                      between=lambda p, step: check(f"after step {step!r}"))
    a.start()
    wait_for(lambda: entered(site, a.id), 30, f"{a.id}'s heavy test", [a])
    while not sections_ended(site, a.id) and a.error is None:
        check("during the heavy test")
        time.sleep(0.2)
    a.join()
    a.assert_succeeded()
    assert lock.query() == {}
    during = [r for w, r in held if w == "during the heavy test"]
    assert len(during) >= 3, held
    assert len({r["token"] for _, r in held}) == 1, held
    if kind != "script":        # script: a plain acquire, no lease
        assert max(r.get("renewals", 0) for r in during) >= 2, during
    if kind in ("jenkins", "gitlab", "github"):
        assert any(w.startswith("after step") for w, _ in held), held
    # Who holds it, as waiters and query show it (README, "Holder details").
    rec = during[-1]
    for key, value in HOLDER[kind].items():
        assert rec.get(key) == value, (key, rec)
    wait_for(lambda: not a.processes(), 10, f"no process of {a.id} left")
