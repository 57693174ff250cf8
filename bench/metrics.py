"""What the API server itself says about the load: apiserver_request_total from /metrics
(completed requests, by verb and code) plus apiserver_longrunning_requests (watches in
flight, which apiserver_request_total counts only when they end), and kube-apiserver's CPU
time from /proc/PID/stat.

Requests started in a window = completed in it + in flight at its end - in flight at its
start. The server's own requests (kube-apiserver renews its identity Lease every 10 s) are
measured once in an idle window (`baseline`) and subtracted at that rate, by verb."""
import os
import ssl
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


class Sample:
    def __init__(self, text, cpu, t):
        self.t, self.cpu = t, cpu
        self.by_verb, self.conflicts, self.inflight = {}, 0.0, {}
        for line in text.splitlines():
            if line.startswith("apiserver_request_total{"):
                v = float(line.rsplit(" ", 1)[1])
                verb = line.split('verb="', 1)[1].split('"', 1)[0]
                self.by_verb[verb] = self.by_verb.get(verb, 0.0) + v
                if 'code="409"' in line:
                    self.conflicts += v
            elif line.startswith("apiserver_longrunning_requests{"):
                v = float(line.rsplit(" ", 1)[1])
                verb = line.split('verb="', 1)[1].split('"', 1)[0]
                self.inflight[verb] = self.inflight.get(verb, 0.0) + v


class Window:
    """Between two samples: requests started (by verb, baseline removed), 409s, server
    CPU seconds, seconds."""

    def __init__(self, a, b, baseline):
        self.seconds = b.t - a.t
        self.cpu = b.cpu - a.cpu
        self.conflicts = b.conflicts - a.conflicts
        verbs = set(a.by_verb) | set(b.by_verb) | set(a.inflight) | set(b.inflight)
        self.by_verb = {}
        for v in verbs:
            n = (b.by_verb.get(v, 0) - a.by_verb.get(v, 0) + b.inflight.get(v, 0)
                 - a.inflight.get(v, 0))
            n -= baseline.get(v, 0.0) * self.seconds
            if abs(n) >= 0.5:
                self.by_verb[v] = n
        self.requests = max(0.0, sum(self.by_verb.values()))

    def verbs_text(self):
        """By verb, largest first; a verb the baseline's subtraction made negative (noise
        of the idle server's own requests) is left out here but not of the total."""
        return ", ".join(f"{v} {n:.0f}" for v, n in sorted(self.by_verb.items(),
                                                           key=lambda kv: -kv[1]) if n >= 0.5)


class Metrics:
    def __init__(self, cluster_dir, server, apiserver_pid_file):
        pki = os.path.join(cluster_dir, "pki")
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        self.url = server + "/metrics"
        self.pid_file = apiserver_pid_file
        self.baseline = {}

    def apiserver_cpu(self):
        pid = open(self.pid_file).read().strip()
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TICK     # utime, stime

    def sample(self):
        text = urllib.request.urlopen(self.url, context=self.ctx, timeout=30).read().decode()
        return Sample(text, self.apiserver_cpu(), time.monotonic())

    def window(self, a, b):
        """A Window. The samples' own GETs of /metrics are not in apiserver_request_total
        (kube-apiserver leaves /metrics out of its request metrics), so none is removed."""
        return Window(a, b, self.baseline)

    def measure_baseline(self, seconds):
        """The idle server's own request rate, by verb, subtracted from every window."""
        a = self.sample()
        time.sleep(seconds)
        w = Window(a, self.sample(), {})
        self.baseline = {v: n / w.seconds for v, n in w.by_verb.items()}
        return w
