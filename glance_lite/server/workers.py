"""glance-lite-api's worker processes (spec §24.4 rule 4): a parent that
opened the listening socket forks N workers, which all accept on it.

- A worker that dies (killed, crashed) is replaced. One that exits with
  a non-zero status by itself (it failed at start: a configuration or
  database error) is not, so a broken configuration does not fork in a
  loop; the parent exits 1 once no worker is left.
- SIGTERM or SIGINT to the parent: each worker stops accepting and lets
  its requests in flight finish (its server's shutdown timeout); the
  parent kills what is left after ``grace`` seconds more, then exits 0.
- A worker exits as soon as its parent is gone (a pipe from the parent
  reaches end of file), so no orphan keeps the port after the parent is
  SIGKILLed.
"""

import logging
import os
import signal
import threading
import time

LOG = logging.getLogger(__name__)
# How often the parent looks for dead workers.
POLL_SECONDS = 0.2


class Supervisor:
    """:param serve: called in each worker process with no argument;
        serves until SIGTERM and returns the worker's exit status.
    :param workers: how many worker processes.
    :param grace: seconds a stopping worker gets before it is killed.
    """

    def __init__(self, serve, workers, grace):
        self.serve = serve
        self.workers = workers
        self.grace = grace
        self.children = {}
        self.stopping = False
        self._parent_alive_r = None
        self._parent_alive_w = None

    def run(self):
        """Fork the workers and supervise them; returns the parent's exit
        status."""
        self._parent_alive_r, self._parent_alive_w = os.pipe()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.workers):
            self._spawn()
        while not self.stopping:
            self._reap()
            if not self.children:
                LOG.error('No worker left: glance-lite-api exits')
                return 1
            time.sleep(POLL_SECONDS)
        self._stop_children()
        return 0

    def _stop(self, signum, frame):
        LOG.info('Signal %d received, stopping the workers', signum)
        self.stopping = True

    def _spawn(self):
        pid = os.fork()
        if pid == 0:
            os._exit(self._worker())
        self.children[pid] = time.monotonic()
        LOG.info('Worker %d started', pid)

    def _worker(self):
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.close(self._parent_alive_w)
            threading.Thread(target=self._exit_with_parent,
                             name='parent-watch', daemon=True).start()
            return self.serve()
        except BaseException:  # noqa: BLE001 - a child must never return
            LOG.exception('Worker %d failed', os.getpid())
            return 1

    def _exit_with_parent(self):
        # Nothing is ever written: read returns at end of file, when the
        # parent (the only writer) is gone.
        os.read(self._parent_alive_r, 1)
        LOG.warning('Parent gone: worker %d exits', os.getpid())
        os._exit(0)

    def _reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.children.pop(pid, None) is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code > 0:
                LOG.error('Worker %d exited with status %d: not restarted',
                          pid, code)
            elif not self.stopping:
                LOG.warning('Worker %d died (%s): starting another', pid,
                            'status 0' if code == 0 else 'signal %d' % -code)
                self._spawn()

    def _stop_children(self):
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace + 5
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(POLL_SECONDS)
        for pid in list(self.children):
            LOG.warning('Worker %d still running: killed', pid)
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.children.pop(pid)


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
