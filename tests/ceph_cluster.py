"""A real single-node Ceph cluster for the rbd store tests (issue 17).

Debian's own daemons (tools/ceph/setup.sh installs them): one monitor,
one manager and one OSD whose bluestore device is a sparse file, all
under one folder of the test run, on free loopback ports, cephx on, no
systemd. Pools keep one copy (``osd pool default size = 1``); the pool
``images`` is an rbd pool, and ``client.glance`` may use it exactly as
an operator's glance user would (``profile rbd pool=images``). Every
daemon runs in its own session and is stopped by its PID.

Run ``python -m tests.ceph_cluster DIR`` to start one by hand; it stays
up until Ctrl-C.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

from tests import processes

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP_SCRIPT = os.path.join(TOP, 'tools', 'ceph', 'setup.sh')
POOL = 'images'
CLIENT = 'glance'
# The OSD's device: a sparse file, so only what is written takes disk.
OSD_DEVICE_BYTES = 20 * 1024 ** 3
DAEMONS = ('mon.a', 'mgr.x', 'osd.0')


class CephError(RuntimeError):
    """The cluster could not be set up or started."""


class CephCluster:
    """After :meth:`start`: ``conf`` (the ceph.conf clients use),
    ``fsid``, ``pool``, ``client`` (the rbd user, without ``client.``),
    ``admin_keyring``, ``pids`` (daemon -> PID) and ``logs``."""

    def __init__(self):
        self.workdir = None
        self.conf = None
        self.fsid = None
        self.pool = POOL
        self.client = CLIENT
        self.admin_keyring = None
        self.mon_addrs = None
        self.pids = {}
        self.logs = {}
        self._processes = {}

    def start(self, workdir, timeout=120):
        """Create and start the cluster under ``workdir``; return once
        the pool's placement groups are active and clean.

        :raises CephError: a binary is missing or a step failed (with
            the daemons' logs).
        """
        for binary in ('ceph-mon', 'ceph-mgr', 'ceph-osd', 'ceph',
                       'ceph-authtool', 'monmaptool'):
            if shutil.which(binary) is None:
                raise CephError('%s is missing: run %s' % (binary,
                                                           SETUP_SCRIPT))
        self.workdir = os.path.abspath(workdir)
        self.fsid = str(uuid.uuid4())
        for sub in ('run', 'log', 'mon/ceph-a', 'mgr/ceph-x', 'osd/ceph-0'):
            os.makedirs(os.path.join(self.workdir, sub), exist_ok=True)
        self.conf = os.path.join(self.workdir, 'ceph.conf')
        self.admin_keyring = self._path('ceph.client.admin.keyring')
        deadline = time.monotonic() + timeout
        try:
            self._write_conf(processes.free_port(), processes.free_port())
            self._make_monitor()
            self._launch('mon.a', ['ceph-mon', '-i', 'a'])
            self._ceph('mon', 'enable-msgr2', timeout=deadline)
            self._make_manager()
            self._launch('mgr.x', ['ceph-mgr', '-i', 'x'])
            osd_uuid = str(uuid.uuid4())
            self._ceph('osd', 'new', osd_uuid, timeout=deadline)
            self._keyring('osd.0', 'osd/ceph-0/keyring',
                          'mon', 'allow profile osd',
                          'mgr', 'allow profile osd', 'osd', 'allow *')
            self._run(['ceph-osd', '-c', self.conf, '-i', '0', '--mkfs',
                       '--osd-uuid', osd_uuid])
            self._launch('osd.0', ['ceph-osd', '-i', '0'])
            self._wait(lambda: self._json('osd', 'stat')['num_up_osds'] == 1,
                       deadline, 'the OSD to come up')
            self._ceph('osd', 'pool', 'create', self.pool, '8',
                       timeout=deadline)
            self._ceph('osd', 'pool', 'application', 'enable', self.pool,
                       'rbd', timeout=deadline)
            self._keyring('client.%s' % self.client,
                          'ceph.client.%s.keyring' % self.client,
                          'mon', 'profile rbd',
                          'osd', 'profile rbd pool=%s' % self.pool,
                          'mgr', 'profile rbd pool=%s' % self.pool)
            self._wait(self._all_clean, deadline,
                       'the placement groups to be active+clean')
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, remove=True):
        """Stop the daemons by PID (OSD first, monitor last), then remove
        the cluster's folder (its OSD device holds what the tests wrote)
        unless ``remove`` is False."""
        for name in reversed(DAEMONS):
            pid = self.pids.pop(name, None)
            if pid is not None:
                processes.stop_group(pid, self._processes.pop(name, None))
        if remove and self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self, name):
        return processes.tail(self.logs[name]) if name in self.logs else ''

    def logs_text(self):
        return '\n'.join('--- %s\n%s' % (name, self.log(name))
                         for name in DAEMONS if name in self.logs)

    def glance_config(self):
        """The [glance_store] options of an rbd store on this cluster."""
        return {'rbd_store_pool': self.pool,
                'rbd_store_user': self.client,
                'rbd_store_ceph_conf': self.conf,
                'rbd_store_chunk_size': 8}

    def rbd(self, *args):
        """Run the ``rbd`` CLI as the admin; its stdout."""
        return self._run(['rbd', '-c', self.conf, '--id', 'admin',
                          '--keyring', self.admin_keyring, '-p', self.pool]
                         + list(args))

    def rbd_json(self, *args):
        return json.loads(self.rbd(*(args + ('--format', 'json'))) or 'null')

    def ceph(self, *args):
        """Run the ``ceph`` CLI as the admin; its stdout."""
        return self._ceph(*args)

    # -- internals --------------------------------------------------------

    def _path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def _write_conf(self, v2_port, v1_port):
        self.mon_addrs = '[v2:127.0.0.1:%d,v1:127.0.0.1:%d]' % (
            v2_port, v1_port)
        daemon_files = {
            'log file': self._path('log', '$cluster-$name.log'),
            'admin socket': self._path('run', '$cluster-$name.asok'),
            'pid file': self._path('run', '$cluster-$name.pid'),
            'keyring': self._path('$type', '$cluster-$id', 'keyring'),
        }
        sections = {
            'global': {
                'fsid': self.fsid,
                'mon host': self.mon_addrs,
                'public network': '127.0.0.0/8',
                'auth cluster required': 'cephx',
                'auth service required': 'cephx',
                'auth client required': 'cephx',
                'auth allow insecure global id reclaim': 'false',
                'run dir': self._path('run'),
                'crash dir': self._path('run'),
                'osd pool default size': 1,
                'osd pool default min size': 1,
                'mon allow pool size one': 'true',
                'mon warn on pool no redundancy': 'false',
                'osd crush chooseleaf type': 0,
                'keyring': self._path('$cluster.$name.keyring'),
                # Clients (glance_lite, the CLI) keep no admin socket and
                # log nowhere: the daemons' logs are what tests show.
                'admin socket': '',
                'log file': '',
            },
            'mon': dict(daemon_files, **{
                'mon data': self._path('mon', '$cluster-$id'),
                'mon initial members': 'a',
                'mon cluster log file': self._path('log', 'cluster.log'),
                # The monitor refuses to run when its disk has less than
                # 5 % free (CI saw it exit with ENOSPC on a 252 GB disk
                # with 13 GB free): a test cluster holds a few GiB at
                # most, so only a disk really full stops it.
                'mon data avail crit': 1,
                'mon data avail warn': 2,
            }),
            'mgr': dict(daemon_files, **{
                'mgr data': self._path('mgr', '$cluster-$id'),
                # Nothing the tests need; less memory and start-up.
                'mgr initial modules': '',
            }),
            'osd': dict(daemon_files, **{
                'osd data': self._path('osd', '$cluster-$id'),
                'osd objectstore': 'bluestore',
                # Beside the data folder: bluestore links <data>/block to
                # it.
                'bluestore block path': self._path('osd',
                                                   '$cluster-$id.block'),
                'bluestore block create': 'true',
                'bluestore block size': OSD_DEVICE_BYTES,
                # A test machine's memory, not a server's.
                'osd memory target': 512 * 1024 ** 2,
                'bluestore cache autotune': 'false',
                'bluestore cache size': 64 * 1024 ** 2,
            }),
        }
        with open(self.conf, 'w') as f:
            f.write(processes.ini(sections))

    def _make_monitor(self):
        # Outside the monitor's data folder: --mkfs wants it empty.
        mon_keyring = self._path('mon.keyring')
        self._run(['ceph-authtool', '--create-keyring', self.admin_keyring,
                   '--gen-key', '-n', 'client.admin',
                   '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *',
                   '--cap', 'mgr', 'allow *', '--cap', 'mds', 'allow *'])
        self._run(['ceph-authtool', '--create-keyring', mon_keyring,
                   '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *'])
        self._run(['ceph-authtool', mon_keyring, '--import-keyring',
                   self.admin_keyring])
        monmap = self._path('monmap')
        self._run(['monmaptool', '--create', '--addv', 'a', self.mon_addrs,
                   '--fsid', self.fsid, monmap])
        self._run(['ceph-mon', '-c', self.conf, '--mkfs', '-i', 'a',
                   '--monmap', monmap, '--keyring', mon_keyring])

    def _make_manager(self):
        self._keyring('mgr.x', 'mgr/ceph-x/keyring', 'mon',
                      'allow profile mgr', 'osd', 'allow *', 'mds', 'allow *')

    def _keyring(self, entity, path, *caps):
        self._ceph('auth', 'get-or-create', entity, *caps, '-o',
                   self._path(path))

    def _launch(self, name, cmd):
        kind = name.split('.', 1)[0]
        self.logs[name] = self._path('log', 'ceph-%s.log' % name)
        out = self._path('log', '%s.stdout' % name)
        with open(out, 'w') as log:
            process = subprocess.Popen(
                cmd + ['-f', '-c', self.conf], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.workdir, start_new_session=True)
        self._processes[name] = process
        self.pids[name] = process.pid
        time.sleep(0.2)
        if process.poll() is not None:
            raise CephError('%s exited with %s:\n%s\n%s' % (
                kind, process.returncode, processes.tail(out),
                self.log(name)))

    def _run(self, cmd, timeout=60):
        try:
            result = subprocess.run(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    timeout=timeout, cwd=self.workdir)
        except subprocess.TimeoutExpired:
            raise CephError('%s did not end within %ss:\n%s' % (
                ' '.join(cmd), timeout, self.logs_text()))
        if result.returncode != 0:
            raise CephError('%s failed (exit %d):\n%s\n%s' % (
                ' '.join(cmd), result.returncode, result.stdout,
                self.logs_text()))
        return result.stdout

    def _ceph(self, *args, timeout=None):
        """The admin's ``ceph`` command; ``timeout`` (a monotonic
        deadline) retries it until then while the monitor starts."""
        cmd = ['ceph', '-c', self.conf, '--id', 'admin', '--keyring',
               self.admin_keyring, '--connect-timeout', '10'] + list(args)
        while True:
            try:
                return self._run(cmd)
            except CephError:
                if timeout is None or time.monotonic() > timeout:
                    raise
                time.sleep(0.5)

    def _json(self, *args):
        return json.loads(self._ceph(*(args + ('--format', 'json'))))

    def _all_clean(self):
        stat = self._json('pg', 'stat')
        by_state = stat.get('pg_summary', stat).get('num_pg_by_state', [])
        total = sum(s['num'] for s in by_state)
        clean = sum(s['num'] for s in by_state
                    if s['name'] == 'active+clean')
        return total > 0 and total == clean

    def _wait(self, predicate, deadline, what):
        while True:
            try:
                if predicate():
                    return
            except (CephError, ValueError, KeyError):
                pass
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise CephError('%s exited with %s while waiting for '
                                    '%s:\n%s' % (name, process.returncode,
                                                 what, self.logs_text()))
            if time.monotonic() > deadline:
                raise CephError('timed out waiting for %s:\n%s' % (
                    what, self.logs_text()))
            time.sleep(0.5)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cluster = CephCluster()
    # Stopped by SIGTERM as by Ctrl-C: the daemons go with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    cluster.start(argv[0] if argv else '/tmp/glance-lite-ceph')
    print('ceph up in %.1fs: conf %s, pool %s, client.%s' % (
        time.monotonic() - started, cluster.conf, cluster.pool,
        cluster.client))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == '__main__':
    main()
