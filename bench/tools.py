"""The tools the side-by-side benchmark (bench/compare.py) drives, behind one interface.

Every tool offers the same four things, so that each scenario times them alike:
  acquire   a process that is holding the lock when it is said to have acquired:
            carrier-lock, cmlock and the kubectl script exit 0 holding it; lelock (leader
            election holds a lock only while its process lives) prints "acquired" and
            keeps holding;
  release   a process that frees it: carrier-lock, cmlock and the script run one that
            exits; for lelock the holder gets SIGTERM, releases (ReleaseOnCancel) and
            exits: its exit is release returning;
  run       hold the lock around a command (`carrier-lock run`, `cmlock run`,
            `kubectl-lock.sh run`, `lelock run`);
  cleanup   delete what a scenario left on the cluster.
CPU time and peak RSS come from wait4(2) on the process itself (children included, as
the kernel sums reaped descendants).
"""
import os
import queue
import signal
import subprocess
import threading
import time


class Proc:
    """A started tool process, reaped with wait4 so that its rusage is ours."""

    def __init__(self, argv, env, line=False):
        self.t0 = time.monotonic()
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE if line else subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        self.t_end = self.status = self.rusage = None

    def wait_line(self, want="acquired"):
        """Blocks until the process prints WANT (True) or ends first (False)."""
        for raw in self.popen.stdout:
            if raw.decode(errors="replace").strip() == want:
                return True
        return False

    def wait(self):
        """Reaps it; returns the exit status (negative: killed by that signal)."""
        if self.status is None:
            _, st, ru = os.wait4(self.popen.pid, 0)
            self.t_end = time.monotonic()
            self.status = os.waitstatus_to_exitcode(st)
            self.popen.returncode = self.status
            self.rusage = ru
        return self.status

    @property
    def cpu(self):
        return self.rusage.ru_utime + self.rusage.ru_stime

    @property
    def maxrss_kib(self):
        return self.rusage.ru_maxrss

    def kill(self, sig=signal.SIGTERM):
        if self.status is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass


class Held:
    """A holder: its id and, for leader election, the holding process."""

    def __init__(self, tool, name, ident, proc=None):
        self.tool, self.name, self.ident, self.proc = tool, name, ident, proc


class Tool:
    key = label = ""
    in_process = False      # True: the holder is a living process (leader election)

    def __init__(self, env):
        self.env = env

    def acquire_argv(self, name, ident):
        raise NotImplementedError

    def release_argv(self, name, ident):
        raise NotImplementedError

    def run_argv(self, name, ident, cmd):
        raise NotImplementedError

    def start_acquire(self, name, ident):
        return Proc(self.acquire_argv(name, ident), self.env, line=self.in_process)

    def acquired(self, proc):
        """Blocks until PROC holds the lock; True if it does."""
        if self.in_process:
            return proc.wait_line()
        return proc.wait() == 0

    def acquire(self, name, ident):
        """Takes the lock (blocking); returns (Held, the acquiring Proc, monotonic time)."""
        p = self.start_acquire(name, ident)
        if not self.acquired(p):
            raise RuntimeError(f"{self.key}: acquire of {name} as {ident} failed "
                               f"(status {p.wait()})")
        return Held(self, name, ident, p if self.in_process else None), p, time.monotonic()

    def release(self, held):
        """Frees it; returns the Proc that released (ended, rusage filled)."""
        if self.in_process:
            p = held.proc
            p.kill(signal.SIGTERM)
        else:
            p = Proc(self.release_argv(held.name, held.ident), self.env)
        if p.wait() != 0:
            raise RuntimeError(f"{self.key}: release of {held.name} by {held.ident} "
                               f"exited {p.status}")
        return p

    def cleanup(self, name):
        pass


class CarrierLock(Tool):
    key, label = "carrier-lock", "carrier-lock"

    def __init__(self, env, binary, kubeconfig):
        super().__init__(env)
        self.bin, self.kc = binary, kubeconfig

    def _base(self, action, name):
        return [self.bin, action, "--kubeconfig", self.kc, "--name", name]

    def acquire_argv(self, name, ident):
        return self._base("acquire", name) + ["--owner", ident]

    def release_argv(self, name, ident):
        return self._base("release", name) + ["--owner", ident]

    def query_argv(self, name):
        return self._base("query", name)

    def run_argv(self, name, ident, cmd):
        return self._base("run", name) + ["--", *cmd]

    def cleanup(self, name):
        subprocess.run(self._base("force-release", name), env=self.env,
                       capture_output=True)


class Kubectl(Tool):
    key, label = "kubectl", "kubectl script (1 s poll)"

    def __init__(self, env, script, kubectl):
        super().__init__(env)
        self.script, self.kubectl = script, kubectl

    def acquire_argv(self, name, ident):
        return [self.script, "acquire", name, ident]

    def release_argv(self, name, ident):
        return [self.script, "release", name, ident]

    def query_argv(self, name):
        return [self.kubectl, "get", "configmap", name, "--ignore-not-found", "-o", "json"]

    def run_argv(self, name, ident, cmd):
        return [self.script, "run", name, ident, *cmd]

    def cleanup(self, name):
        subprocess.run([self.kubectl, "delete", "configmap", name, "--ignore-not-found"],
                       env=self.env, capture_output=True)


class CmLock(Tool):
    key, label = "cm", "client-go ConfigMap (2 s poll)"

    def __init__(self, env, binary, kubeconfig, kubectl):
        super().__init__(env)
        self.bin, self.kc, self.kubectl = binary, kubeconfig, kubectl

    def _base(self, action, name, ident):
        return [self.bin, action, "--kubeconfig", self.kc, "--name", name, "--id", ident]

    def acquire_argv(self, name, ident):
        return self._base("acquire", name, ident)

    def release_argv(self, name, ident):
        return self._base("release", name, ident)

    def run_argv(self, name, ident, cmd):
        return self._base("run", name, ident) + ["--", *cmd]

    def cleanup(self, name):
        subprocess.run([self.kubectl, "delete", "configmap", name, "--ignore-not-found"],
                       env=self.env, capture_output=True)


class LeaderElection(Tool):
    in_process = True

    def __init__(self, env, binary, kubeconfig, kubectl, tuned):
        super().__init__(env)
        self.bin, self.kc, self.kubectl = binary, kubeconfig, kubectl
        if tuned:
            self.key, self.label = "le-tuned", "leader election tuned (2s/1s/200ms)"
            self.timing = ["--lease", "2s", "--renew", "1s", "--retry", "200ms"]
        else:
            self.key, self.label = "le-default", "leader election defaults (15s/10s/2s)"
            self.timing = ["--lease", "15s", "--renew", "10s", "--retry", "2s"]

    def _base(self, action, name, ident):
        return [self.bin, action, "--kubeconfig", self.kc, "--name", name, "--id", ident,
                *self.timing]

    def acquire_argv(self, name, ident):
        return self._base("hold", name, ident)

    def run_argv(self, name, ident, cmd):
        return self._base("run", name, ident) + ["--", *cmd]

    def cleanup(self, name):
        subprocess.run([self.kubectl, "delete", "lease", name, "--ignore-not-found"],
                       env=self.env, capture_output=True)


class Waiters:
    """Background acquirers of one lock; `got` yields (Proc, ident, time) as each one
    comes to hold it."""

    def __init__(self, tool, name):
        self.tool, self.name = tool, name
        self.got = queue.Queue()
        self.procs, self.threads = {}, {}

    def add(self, ident):
        p = self.tool.start_acquire(self.name, ident)
        self.procs[ident] = p

        def watch():
            ok = self.tool.acquired(p)
            self.got.put((p, ident, time.monotonic(), ok))
        t = threading.Thread(target=watch, daemon=True)
        t.start()
        self.threads[ident] = t

    def next(self, timeout):
        """The next waiter to hold the lock: (Held, time it acquired)."""
        p, ident, t, ok = self.got.get(timeout=timeout)
        if not ok:
            raise RuntimeError(f"{self.tool.key}: waiter {ident} ended without the lock "
                               f"(status {p.wait()})")
        del self.procs[ident]
        del self.threads[ident]
        return Held(self.tool, self.name, ident, p if self.tool.in_process else None), t

    def stop(self):
        """Ends every waiter still waiting (SIGTERM: each leaves the lock as it was),
        and reaps it."""
        for p in self.procs.values():
            p.kill(signal.SIGTERM)
        for ident, p in self.procs.items():
            self.threads[ident].join(timeout=20)
            if self.threads[ident].is_alive():
                p.kill(signal.SIGKILL)
                self.threads[ident].join()
            if self.tool.in_process:
                p.wait()
        self.procs.clear()
        self.threads.clear()
        while not self.got.empty():        # one that got the lock as it was stopped
            p, ident, _, ok = self.got.get()
            if self.tool.in_process:
                p.kill(signal.SIGTERM)
                p.wait()
