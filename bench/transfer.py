"""Transfer benchmark for glance_lite: upload and download throughput.

Usage::

    .venv/bin/python bench/transfer.py [--size-mib N] [--runs R]
                                       [--url URL [--server-pid PID]]
                                       [--workdir DIR]

Without ``--url`` the script starts its own glance-lite-api (noauth
flavor, a free port on 127.0.0.1, catalogue and file store in a temporary
directory) and stops it at the end; with ``--url`` it talks to a server
that is already running (``--server-pid`` then lets it sample that
server's memory, which needs the server on this machine).

It writes an N MiB file of random data (default 256 MiB), then, for each
of R runs (default 3), measures:

* md5sum of the file and a fsync'ed copy of it on the same disk: the
  machine's ceilings for hashing and writing, measured in the same run so
  the API figures can be judged against them;
* an upload with Content-Length and a chunked upload (POST /v1/images);
* a download (GET /v1/images/{id}) whose bytes are discarded; a separate,
  untimed pass checks the downloaded bytes of both images against the
  file's md5, the checksum of the create answer and the
  x-image-meta-checksum header.

The server's resident set size (VmRSS) is sampled every 50 ms; the table
shows its peak during each phase and the growth over the idle server.
Throughput is in MiB/s (2**20 bytes per second). The test file is
normally in the page cache, so the ceilings are warm-cache figures.

The exit status is 1 if a request fails or a checksum does not match.
This is a benchmark, not a test: pytest never collects it.
"""

import argparse
import configparser
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

MIB = 1024 * 1024
FILE_BLOCK = 4 * MIB  # writing the test file, md5 of it, the disk copy
HTTP_BLOCK = 1 * MIB  # request body chunks and response reads
RSS_INTERVAL = 0.05
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Generous: a slow server must still finish a multi-GiB transfer.
HTTP_TIMEOUT = 900.0

IMAGE_HEADERS = {
    'Content-Type': 'application/octet-stream',
    'x-image-meta-name': 'bench',
    'x-image-meta-disk_format': 'raw',
    'x-image-meta-container_format': 'bare',
}

SOURCE_TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PHASES = ['md5sum', 'disk write', 'upload Content-Length',
          'upload chunked', 'download']
# The ceilings do not involve the server, so no RSS is shown for them.
SERVER_PHASES = PHASES[2:]


class BenchError(Exception):
    """A request failed or the server could not be started: stop."""


# --- the server under test -------------------------------------------------

def free_port():
    """A port nothing listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def server_command(config_file):
    """The command line and environment that start glance-lite-api."""
    # The console script sits next to the interpreter of the virtualenv;
    # a tree that is not pip-installed can still run the module, found
    # through the source tree this script lives in.
    script = os.path.join(os.path.dirname(sys.executable), 'glance-lite-api')
    if os.path.exists(script):
        return [script, '--config-file', config_file], None
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (SOURCE_TREE, env.get('PYTHONPATH')) if p)
    return ([sys.executable, '-m', 'glance_lite.cmd.api',
             '--config-file', config_file], env)


class Server:
    """A glance-lite-api subprocess with its own config and state."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.config_file = os.path.join(workdir, 'glance-lite.conf')
        self.log_file = os.path.join(workdir, 'server.log')
        self.state_path = os.path.join(workdir, 'state')
        self.proc = None
        self.url = None

    @property
    def pid(self):
        return self.proc.pid

    def _write_config(self, port):
        config = configparser.ConfigParser()
        config['DEFAULT'] = {'bind_host': '127.0.0.1',
                             'bind_port': str(port),
                             'state_path': self.state_path}
        config['paste_deploy'] = {'flavor': 'noauth'}
        with open(self.config_file, 'w') as f:
            config.write(f)

    def start(self, attempts=3):
        # The port found free may be taken by someone else before the
        # server binds it; a fresh port on the next attempt settles that.
        os.makedirs(self.state_path, exist_ok=True)
        for attempt in range(1, attempts + 1):
            port = free_port()
            self._write_config(port)
            command, env = server_command(self.config_file)
            with open(self.log_file, 'ab') as log:
                self.proc = subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT)
            self.url = 'http://127.0.0.1:%d' % port
            try:
                wait_until_up(Client(self.url), self.proc)
                return
            except BenchError:
                self.stop()
                if attempt == attempts or not self._port_was_taken():
                    raise BenchError('server did not start; last lines of '
                                     '%s:\n%s' % (self.log_file,
                                                  self.log_tail()))

    def _port_was_taken(self):
        return 'address already in use' in self.log_tail(50).lower()

    def log_tail(self, lines=20):
        try:
            with open(self.log_file, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    def stop(self):
        """Stop the server by its PID: SIGTERM, then SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            print('server pid %d ignored SIGTERM for %.0f s; killing it'
                  % (self.proc.pid, STOP_TIMEOUT), file=sys.stderr)
            self.proc.kill()
            self.proc.wait()


def wait_until_up(client, proc=None, timeout=START_TIMEOUT):
    """Return once GET /versions answers; BenchError on timeout or exit."""
    deadline = time.monotonic() + timeout
    last = 'no answer'
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError('server exited with status %d' % proc.returncode)
        try:
            status, _, _ = client.simple('GET', '/versions')
            # Whoever grabbed the port first may answer too: the server
            # must also still be running for the answer to be its own.
            if status in (200, 300) and (proc is None or
                                         proc.poll() is None):
                return
            last = 'status %d' % status
        except OSError as error:
            last = str(error)  # not listening yet
        time.sleep(0.1)
    raise BenchError('GET /versions did not answer 200 or 300 within %.0f s '
                     '(last: %s)' % (timeout, last))


# --- server memory and CPU -------------------------------------------------

def read_rss(pid):
    """VmRSS of ``pid`` in bytes, or None once the process is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def read_cpu_seconds(pid):
    """User plus system CPU time of ``pid`` in seconds, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces and parentheses, so
    # count the fields from the last ')'; utime and stime are 14 and 15.
    fields = stat.rsplit(')', 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


class RssSampler(threading.Thread):
    """Samples a process's RSS in the background.

    Keeps the peak since the last ``reset``: a phase is bracketed by
    ``reset`` and ``peak``.
    """

    def __init__(self, pid, interval=RSS_INTERVAL):
        super().__init__(name='rss-sampler', daemon=True)
        self.pid = pid
        self.interval = interval
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._current = 0
        self._peak = 0

    def sample(self):
        rss = read_rss(self.pid)
        if rss is None:
            return None
        with self._lock:
            self._current = rss
            self._peak = max(self._peak, rss)
        return rss

    def run(self):
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self):
        self._stop_event.set()
        self.join()

    def reset(self):
        self.sample()
        with self._lock:
            self._peak = self._current

    def peak(self):
        # Sampling now as well catches a peak at the very end of a phase
        # that fell between two ticks.
        self.sample()
        with self._lock:
            return self._peak


class PhaseMeter:
    """Brackets a timed phase.

    Measures wall time and, when a server PID is known, the server's peak
    RSS and CPU time over the phase.
    """

    def __init__(self, sampler):
        self.sampler = sampler

    def measure(self, func, *args):
        pid = self.sampler.pid if self.sampler else None
        if self.sampler:
            self.sampler.reset()
        cpu0 = read_cpu_seconds(pid) if pid else None
        start = time.perf_counter()
        result = func(*args)
        elapsed = time.perf_counter() - start
        cpu1 = read_cpu_seconds(pid) if pid else None
        peak = self.sampler.peak() if self.sampler else None
        cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
        return result, elapsed, peak, cpu


# --- HTTP ------------------------------------------------------------------

def iter_blocks(f, size):
    while True:
        block = f.read(size)
        if not block:
            return
        yield block


class Client:
    """Image API v1 calls over http.client.

    One connection per request, so each transfer is measured on its own.
    """

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == 'https'
        self.host = parts.hostname
        self.port = parts.port
        self.base = parts.path.rstrip('/')

    def _connect(self):
        cls = (http.client.HTTPSConnection if self.https
               else http.client.HTTPConnection)
        # blocksize is how much http.client reads from a file body per
        # send(); its 8 KiB default would make the client the bottleneck.
        return cls(self.host, self.port, timeout=HTTP_TIMEOUT,
                   blocksize=HTTP_BLOCK)

    def simple(self, method, path):
        """A request without a body; returns (status, headers, body)."""
        conn = self._connect()
        try:
            conn.request(method, self.base + path)
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def upload(self, path, size, chunked):
        """POST the file as a new image; returns the image of the answer.

        The file object (or the iterator over it) is handed to http.client,
        which streams it: the image is never held in memory.
        """
        headers = dict(IMAGE_HEADERS)
        conn = self._connect()
        try:
            with open(path, 'rb') as f:
                if chunked:
                    headers['Transfer-Encoding'] = 'chunked'
                    body = iter_blocks(f, HTTP_BLOCK)
                else:
                    # Without it http.client would send a file chunked.
                    headers['Content-Length'] = str(size)
                    body = f
                try:
                    conn.request('POST', self.base + '/v1/images', body=body,
                                 headers=headers, encode_chunked=chunked)
                except OSError as error:
                    # The server may have answered (413, 500...) and closed
                    # the connection before reading the whole body; its
                    # answer says more than the broken pipe.
                    raise BenchError('POST /v1/images: %s%s' % (
                        error, self._early_answer(conn)))
            resp = conn.getresponse()
            answer = resp.read()
        finally:
            conn.close()
        if resp.status != 201:
            raise BenchError('POST /v1/images (%s) answered %d, not 201: %s'
                             % ('chunked' if chunked else 'Content-Length',
                                resp.status, shorten(answer)))
        try:
            image = json.loads(answer)['image']
            image['id']
            return image
        except (ValueError, KeyError, TypeError):
            raise BenchError('POST /v1/images answered 201 without an '
                             '{"image": ...} document: %s' % shorten(answer))

    @staticmethod
    def _early_answer(conn):
        try:
            resp = conn.getresponse()
            return '; server answered %d: %s' % (resp.status,
                                                 shorten(resp.read()))
        except (OSError, http.client.HTTPException):
            return ''

    def download(self, image_id, md5=None):
        """GET the image data in 1 MiB reads.

        Returns (bytes read, x-image-meta-checksum header); feeds the data
        to ``md5`` only when one is given.
        """
        path = '/v1/images/%s' % image_id
        conn = self._connect()
        try:
            conn.request('GET', self.base + path)
            resp = conn.getresponse()
            if resp.status != 200:
                raise BenchError('GET %s answered %d, not 200: %s'
                                 % (path, resp.status, shorten(resp.read())))
            # One reused buffer: the timed pass then costs little more than
            # the socket reads themselves.
            buf = memoryview(bytearray(HTTP_BLOCK))
            total = 0
            while True:
                n = resp.readinto(buf)
                if not n:
                    break
                total += n
                if md5 is not None:
                    md5.update(buf[:n])
            return total, resp.getheader('x-image-meta-checksum')
        except (OSError, http.client.HTTPException) as error:
            raise BenchError('GET %s: %s: %s'
                             % (path, type(error).__name__, error))
        finally:
            conn.close()

    def delete(self, image_id):
        path = '/v1/images/%s' % image_id
        status, _, body = self.simple('DELETE', path)
        if status != 200:
            raise BenchError('DELETE %s answered %d, not 200: %s'
                             % (path, status, shorten(body)))


def shorten(body, limit=300):
    text = body.decode('utf-8', 'replace').strip()
    return text if len(text) <= limit else text[:limit] + '...'


# --- the ceilings ----------------------------------------------------------

def make_test_file(path, size):
    """Write ``size`` bytes of random data; returns their md5 hex digest."""
    md5 = hashlib.md5()
    with open(path, 'wb') as f:
        left = size
        while left:
            block = os.urandom(min(FILE_BLOCK, left))
            md5.update(block)
            f.write(block)
            left -= len(block)
    return md5.hexdigest()


def run_md5sum(path):
    out = subprocess.run(['md5sum', path], check=True, capture_output=True,
                         text=True).stdout
    return out.split()[0]


def copy_with_fsync(src, dst):
    """Copy in 4 MiB blocks, then fsync.

    The fsync makes the time include the disk, not only the page cache.
    """
    with open(src, 'rb') as fin, open(dst, 'wb') as fout:
        for block in iter_blocks(fin, FILE_BLOCK):
            fout.write(block)
        fout.flush()
        os.fsync(fout.fileno())


# --- the benchmark ---------------------------------------------------------

class Results:
    def __init__(self):
        self.seconds = {phase: [] for phase in PHASES}
        self.peak_rss = {phase: [] for phase in PHASES}
        self.cpu = {phase: [] for phase in PHASES}
        self.problems = []

    def add(self, phase, elapsed, peak, cpu):
        self.seconds[phase].append(elapsed)
        if peak is not None:
            self.peak_rss[phase].append(peak)
        if cpu is not None:
            self.cpu[phase].append(cpu / elapsed)


def verify(client, image, size, expected, results, label):
    """Untimed: download with hashing and compare every checksum known."""
    md5 = hashlib.md5()
    total, header = client.download(image['id'], md5)
    checks = [('bytes downloaded', total, size),
              ('md5 of downloaded data', md5.hexdigest(), expected),
              ('checksum in the create answer', image.get('checksum'),
               expected),
              ('x-image-meta-checksum header', header, expected)]
    for what, got, want in checks:
        if got != want:
            results.problems.append('%s image %s: %s is %r, expected %r'
                                    % (label, image['id'], what, got, want))


def one_run(run, client, meter, data_file, size, expected, results):
    # The ceilings do not involve the server: no RSS or CPU for them.
    ceilings = PhaseMeter(None)
    digest, *measured = ceilings.measure(run_md5sum, data_file)
    results.add('md5sum', *measured)
    if digest != expected:
        results.problems.append('run %d: md5sum printed %s, expected %s'
                                % (run, digest, expected))
    copy_file = data_file + '.copy'
    _, *measured = ceilings.measure(copy_with_fsync, data_file, copy_file)
    os.unlink(copy_file)
    results.add('disk write', *measured)

    images = []
    try:
        for phase, chunked in (('upload Content-Length', False),
                               ('upload chunked', True)):
            image, *measured = meter.measure(client.upload, data_file, size,
                                             chunked)
            images.append((phase, image))
            results.add(phase, *measured)

        image_id = images[0][1]['id']
        (total, _), *measured = meter.measure(client.download, image_id)
        if total == size:
            results.add('download', *measured)
        else:
            # The time of a short read says nothing about throughput; the
            # other phases and runs still do, so record and go on.
            results.problems.append(
                'run %d: timed GET /v1/images/%s returned %d bytes, not %d'
                % (run, image_id, total, size))

        for phase, image in images:
            verify(client, image, size, expected, results,
                   'run %d, %s' % (run, phase))
    except BaseException:
        # Leave nothing behind when a request failed mid-run, but let the
        # first error be the one reported.
        for _, image in images:
            try:
                client.delete(image['id'])
            except (BenchError, OSError, http.client.HTTPException) as error:
                print('cleanup: %s' % error, file=sys.stderr)
        raise
    for _, image in images:
        client.delete(image['id'])


def measure_idle(sampler, seconds=1.0):
    """RSS of the idle server.

    The highest sample over a short quiet period, so that a single low
    reading does not understate it.
    """
    sampler.reset()
    time.sleep(seconds)
    return sampler.peak()


# --- the report ------------------------------------------------------------

def fmt_mib(value):
    return '%.1f' % (value / MIB)


def report(args, server_desc, size, idle, results, out=sys.stdout):
    print(file=out)
    print('glance_lite transfer benchmark: %d MiB, %d run(s)'
          % (args.size_mib, args.runs), file=out)
    print('server: %s' % server_desc, file=out)
    if idle is not None:
        print('server idle RSS: %s MiB' % fmt_mib(idle), file=out)
    print('throughput in MiB/s (2**20 bytes/s); RSS in MiB;', file=out)
    print('srv CPU: server user+system time / wall time (100% = one core)',
          file=out)
    print(file=out)
    header = ('%-22s %10s %17s %9s %9s %8s'
              % ('phase', 'median', 'min-max', 'peak RSS', 'growth',
                 'srv CPU'))
    print(header, file=out)
    print('-' * len(header), file=out)
    for phase in PHASES:
        rates = [size / MIB / s for s in results.seconds[phase]]
        if not rates:
            print('%-22s %10s' % (phase, 'n/a'), file=out)
            continue
        median = '%.1f' % statistics.median(rates)
        spread = '%.1f-%.1f' % (min(rates), max(rates))
        peak = growth = cpu = '-'
        if phase in SERVER_PHASES and results.peak_rss[phase]:
            highest = max(results.peak_rss[phase])
            peak = fmt_mib(highest)
            growth = '+' + fmt_mib(highest - idle)
        if results.cpu[phase]:
            cpu = '%.0f%%' % (100 * statistics.median(results.cpu[phase]))
        print('%-22s %10s %17s %9s %9s %8s'
              % (phase, median, spread, peak, growth, cpu), file=out)
    print(file=out)
    print('md5sum and disk write (fsync included) are the machine\'s '
          'ceilings;', file=out)
    print('peak RSS and growth over idle: the highest of the runs',
          file=out)
    for problem in results.problems:
        print('PROBLEM: %s' % problem, file=out)


# --- main ------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Measure glance_lite upload and download throughput.')
    parser.add_argument('--size-mib', type=int, default=256,
                        help='size of the test image in MiB (default 256)')
    parser.add_argument('--runs', type=int, default=3,
                        help='number of runs (default 3)')
    parser.add_argument('--url',
                        help='base URL of a running glance_lite (default: '
                             'start one on a free port)')
    parser.add_argument('--server-pid', type=int,
                        help='PID of the server at --url, to sample its RSS')
    parser.add_argument('--workdir',
                        help='directory for the temporary files and, when '
                             'started here, the server state (default: the '
                             'system temporary directory)')
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.runs < 1:
        parser.error('--size-mib and --runs must be at least 1')
    if args.server_pid is not None and not args.url:
        parser.error('--server-pid goes with --url')
    if args.url and urllib.parse.urlsplit(args.url).scheme not in (
            'http', 'https'):
        parser.error('--url must be an http:// or https:// URL')
    return args


def main(argv=None):
    args = parse_args(argv)
    size = args.size_mib * MIB
    workdir = tempfile.mkdtemp(prefix='glance-lite-bench-', dir=args.workdir)
    server = sampler = None
    results = Results()
    idle = None
    server_desc = args.url
    failure = None
    try:
        if args.url:
            client = Client(args.url)
            wait_until_up(client, timeout=10)
            pid = args.server_pid
        else:
            server = Server(workdir)
            server.start()
            client = Client(server.url)
            pid = server.pid
            server_desc = '%s (started here, pid %d, log %s)' % (
                server.url, pid, server.log_file)
        if pid is not None:
            if read_rss(pid) is None:
                raise BenchError('no /proc/%d/status: cannot sample RSS'
                                 % pid)
            sampler = RssSampler(pid)
            sampler.start()
        print('server: %s' % server_desc, flush=True)

        data_file = os.path.join(workdir, 'image.bin')
        print('writing %d MiB test file %s' % (args.size_mib, data_file),
              flush=True)
        expected = make_test_file(data_file, size)
        if sampler:
            idle = measure_idle(sampler)

        meter = PhaseMeter(sampler)
        for run in range(1, args.runs + 1):
            print('run %d/%d' % (run, args.runs), flush=True)
            one_run(run, client, meter, data_file, size, expected, results)
    except BenchError as error:
        failure = str(error)
    except (OSError, http.client.HTTPException) as error:
        failure = '%s: %s' % (type(error).__name__, error)
    finally:
        if sampler:
            sampler.stop()
        if server:
            server.stop()
        # Keep the server log when something went wrong (it is the first
        # thing to read), but not the large files next to it.
        if server is None or (failure is None and not results.problems):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            shutil.rmtree(server.state_path, ignore_errors=True)
            for name in ('image.bin', 'image.bin.copy'):
                try:
                    os.unlink(os.path.join(workdir, name))
                except FileNotFoundError:
                    pass

    report(args, server_desc, size, idle, results)
    if failure:
        print('FAILED: %s' % failure)
    if server and (failure or results.problems):
        print('server log kept: %s' % server.log_file)
    return 1 if failure or results.problems else 0


if __name__ == '__main__':
    sys.exit(main())
