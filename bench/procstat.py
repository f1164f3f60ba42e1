"""Memory of a server and its worker processes, from /proc.

A server is a process tree (uWSGI's master and workers, a pre-forking
server): its memory is the sum of VmRSS over the tree, sampled in the
background by :class:`RssSampler`, which keeps the peak since the last
:meth:`RssSampler.reset`.
"""

import os
import threading

INTERVAL = 0.05


def _status_kib(pid, field):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def _children(pid):
    """PIDs of the direct children of pid (all threads' children)."""
    found = []
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, task)) as f:
                found.extend(int(child) for child in f.read().split())
        except FileNotFoundError:
            pass
    return found


def tree(pid):
    """pid and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def tree_rss(pid):
    """Sum of VmRSS over the tree, in bytes (None once pid is gone)."""
    total = None
    for member in tree(pid):
        kib = _status_kib(member, 'VmRSS')
        if kib is not None:
            total = (total or 0) + kib * 1024
    return total


class RssSampler(threading.Thread):
    """Samples tree_rss(pid) every INTERVAL seconds in the background."""

    def __init__(self, pid, interval=INTERVAL):
        super().__init__(name='rss-sampler-%d' % pid, daemon=True)
        self.pid = pid
        self.interval = interval
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._current = 0
        self._peak = 0

    def sample(self):
        rss = tree_rss(self.pid)
        if rss is not None:
            with self._lock:
                self._current = rss
                self._peak = max(self._peak, rss)
        return rss

    def run(self):
        while not self._stopped.wait(self.interval):
            self.sample()

    def stop(self):
        self._stopped.set()
        self.join()

    def reset(self):
        """Start a new phase: the peak is the current RSS."""
        self.sample()
        with self._lock:
            self._peak = self._current

    def peak(self):
        self.sample()
        with self._lock:
            return self._peak

    def idle(self, seconds=1.0):
        """The highest RSS over a short quiet period."""
        self.reset()
        self._stopped.wait(seconds)
        return self.peak()
