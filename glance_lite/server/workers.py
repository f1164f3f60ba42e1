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
- SIGHUP to the parent: ``reload`` re-reads the configuration; when it
  succeeds a new set of workers starts with it, and once all of them
  accept, the old ones stop as on SIGTERM (their requests in flight
  finish). The listening socket stays open throughout, so no connection
  is refused. New workers that fail to start leave the old ones serving.
"""

import logging
import os
import signal
import threading
import time

LOG = logging.getLogger(__name__)
# How often the parent looks for dead workers.
POLL_SECONDS = 0.2
# How long the workers of a reload get to load the application and
# accept, before the reload is given up and the old workers kept.
READY_TIMEOUT = 120


class Supervisor:
    """:param serve: called in each worker process with no argument;
        serves until SIGTERM and returns the worker's exit status.
    :param workers: how many worker processes.
    :param grace: seconds a stopping worker gets before it is killed.
    :param reload: called in the parent on SIGHUP; re-reads the
        configuration and returns how many workers it asks for (0: as
        many as now), or None when it cannot be used (the workers are
        then left as they are).

    ``serve`` is called with one argument, a function it calls once the
    worker accepts connections.
    """

    def __init__(self, serve, workers, grace, reload=None):
        self.serve = serve
        self.workers = workers
        self.grace = grace
        self.reload = reload
        self.children = {}
        # Workers of the previous configuration, stopping: pid -> when
        # they are killed if still running.
        self.retiring = {}
        self.stopping = False
        self.reload_requested = False
        self._parent_alive_r = None
        self._parent_alive_w = None
        self._ready_r = None
        self._ready_w = None
        self._ready = set()

    def run(self):
        """Fork the workers and supervise them; returns the parent's exit
        status."""
        self._parent_alive_r, self._parent_alive_w = os.pipe()
        self._ready_r, self._ready_w = os.pipe()
        os.set_blocking(self._ready_r, False)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._request_reload)
        for _ in range(self.workers):
            self._spawn()
        while not self.stopping:
            self._reap()
            if not self.children:
                LOG.error('No worker left: glance-lite-api exits')
                return 1
            if self.reload_requested:
                self.reload_requested = False
                self._reload()
            self._read_ready()
            self._kill_overdue()
            time.sleep(POLL_SECONDS)
        self._stop_children()
        return 0

    def _stop(self, signum, frame):
        LOG.info('Signal %d received, stopping the workers', signum)
        self.stopping = True

    def _request_reload(self, signum, frame):
        # The reload itself runs in the main loop, not in the handler: it
        # forks and waits, which a signal handler must not.
        self.reload_requested = True

    def _reload(self):
        LOG.info('SIGHUP received: reloading the configuration')
        workers = self.reload() if self.reload else None
        if workers is None:
            LOG.error('Configuration not reloaded: the workers keep the '
                      'previous one')
            return
        workers = workers or self.workers
        old = set(self.children) - set(self.retiring)
        new = set()
        for _ in range(workers):
            new.add(self._spawn())
        deadline = time.monotonic() + READY_TIMEOUT
        while not new <= self._read_ready():
            self._reap()
            failed = new - set(self.children)
            if failed or time.monotonic() > deadline or self.stopping:
                LOG.error('Workers with the reloaded configuration did not '
                          'start (%s): the previous workers keep serving',
                          'exited' if failed else 'not ready in time')
                self._retire(new & set(self.children), at_once=True)
                return
            time.sleep(POLL_SECONDS)
        self.workers = workers
        self._retire(old)
        LOG.info('Configuration reloaded: workers %s replace %s',
                 sorted(new), sorted(old))

    def _read_ready(self):
        """The pids of the workers that said they accept."""
        while True:
            try:
                data = os.read(self._ready_r, 4096)
            except BlockingIOError:
                break
            if not data:
                break
            self._ready.update(int(pid) for pid in data.split())
        return self._ready

    def _retire(self, pids, at_once=False):
        """Stop these workers without replacing them: SIGTERM, then
        SIGKILL after the grace period (at once if ``at_once``)."""
        deadline = time.monotonic() + (0 if at_once else self.grace + 5)
        for pid in pids:
            self.retiring[pid] = deadline
            _signal(pid, signal.SIGKILL if at_once else signal.SIGTERM)

    def _kill_overdue(self):
        now = time.monotonic()
        for pid, deadline in list(self.retiring.items()):
            if pid in self.children and now > deadline:
                LOG.warning('Worker %d still running: killed', pid)
                _signal(pid, signal.SIGKILL)

    def _spawn(self):
        pid = os.fork()
        if pid == 0:
            os._exit(self._worker())
        self.children[pid] = time.monotonic()
        LOG.info('Worker %d started', pid)
        return pid

    def _worker(self):
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            # A SIGHUP meant for the parent (a terminal's, or a process
            # group's) must not end a worker.
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            os.close(self._parent_alive_w)
            os.close(self._ready_r)
            threading.Thread(target=self._exit_with_parent,
                             name='parent-watch', daemon=True).start()
            return self.serve(self._say_ready)
        except BaseException:  # noqa: BLE001 - a child must never return
            LOG.exception('Worker %d failed', os.getpid())
            return 1

    def _say_ready(self):
        os.write(self._ready_w, b'%d\n' % os.getpid())

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
            self._ready.discard(pid)
            if self.retiring.pop(pid, None) is not None:
                LOG.info('Worker %d of the previous configuration stopped',
                         pid)
            elif code > 0:
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
