"""Image byte transfers: glance_lite and Glance 33 side by side, against
the machine's ceilings measured in the same run.

One command (from the top of a checkout; Glance is installed on first
use, see bench/glance/server.py)::

    .venv/bin/python bench/transfers.py [--sizes 1G,2G] [--runs 3]
                                        [--parallel 8] [--parallel-size 1G]
                                        [--rbd] [--no-glance]
                                        [--workdir DIR] [--no-report]

For each size and run, in this order (A B A B: both servers within the
same run, so a change in the machine's load hits both):

* ceilings: ``md5sum`` and ``sha512sum`` of the file (every upload
  computes both digests: the MD5 checksum and the default multihash); a
  Python read -> md5 -> write loop
  (1 MiB blocks) to a file on the same disk; curl pushing the file through
  loopback into a sink that discards it (upload ceiling), and curl reading
  it from a loopback server that sends it with ``sendfile`` (download
  ceiling);
* glance_lite through v1 (``POST /v1/images``, ``GET /v1/images/{id}``),
  the same glance_lite process through v2 and Glance (``POST /v2/images``
  then ``PUT /v2/images/{id}/file``, ``GET /v2/images/{id}/file``): an upload
  with Content-Length, a chunked upload, a download timed with the bytes
  discarded by curl (no client hashing), then an untimed pass that checks
  the md5 of each stored image's bytes against the file's and the
  checksum the server recorded.

With ``--rbd``, a one-node Ceph cluster (tests/ceph_cluster.py, after
``tools/ceph/setup.sh``) is started and a second glance_lite server
stores its images in rbd: the same transfers, plus an upload with
Content-Length that also declares the size (``x-image-meta-size``, with
which the rbd image is created at its final size instead of grown).
``--no-glance`` leaves Glance out.

Then ``--parallel`` (8) concurrent uploads of a ``--parallel-size`` (1 GiB)
file to each server: aggregate throughput and memory.

Every transfer is made by curl (``time_total``), so the client costs the
same for both servers. Memory is the sum of VmRSS over the server's
processes, sampled every 50 ms: the peak per phase and its growth over the
idle server. The figures are printed as Markdown and written into the
``transfers`` and ``uploads8`` sections of docs/performance.md (unless
``--no-report``). The exit status is 1 if any transfer failed or any
checksum did not match. A benchmark, not a test: pytest never runs it.
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from bench.glance import server as glance_server  # noqa: E402
from bench import procstat  # noqa: E402
from bench import report  # noqa: E402
from tests import ceph_cluster  # noqa: E402

MIB = 1024 * 1024
BLOCK = MIB
START_TIMEOUT = 90.0
# Same concurrency for both servers: glance_lite's threads, Glance's
# uWSGI processes x threads.
GLANCE_PROCESSES = 2
GLANCE_THREADS = 8
LITE_THREADS = GLANCE_PROCESSES * GLANCE_THREADS
PHASES = ('upload Content-Length', 'upload chunked', 'download')
DECLARED = 'upload Content-Length, size declared'


class BenchError(Exception):
    """A transfer failed: the figures would mean nothing."""


def parse_size(text):
    match = re.fullmatch(r'(\d+)([MG]?)', text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError('size like 512M or 2G: %r' % text)
    number, unit = int(match.group(1)), match.group(2) or 'M'
    return number * (1024 * MIB if unit == 'G' else MIB)


def label(size):
    return ('%d GiB' % (size // (1024 * MIB)) if size % (1024 * MIB) == 0
            else '%d MiB' % (size // MIB))


# --- curl ------------------------------------------------------------------

def curl(args):
    """Run curl; returns (status, seconds, bytes downloaded)."""
    done = subprocess.run(
        ['curl', '-sS', '-w', '\n%{http_code} %{time_total} '
         '%{size_download}', '-H', 'Expect:'] + args,
        capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError('curl %s: %s' % (' '.join(args[-1:]),
                                          done.stderr.strip()))
    status, seconds, size = done.stdout.rsplit('\n', 1)[1].split()
    return int(status), float(seconds), int(size)


def upload_args(path, chunked):
    args = ['-T', path, '-H', 'Content-Type: application/octet-stream']
    if chunked:
        args += ['-H', 'Transfer-Encoding: chunked']
    return args


def md5_of_url(url):
    """md5 of the bytes a GET returns (curl piped into md5sum)."""
    fetch = subprocess.Popen(['curl', '-sS', '-f', url],
                             stdout=subprocess.PIPE)
    digest = subprocess.run(['md5sum'], stdin=fetch.stdout,
                            capture_output=True, text=True).stdout.split()[0]
    fetch.stdout.close()
    if fetch.wait() != 0:
        raise BenchError('GET %s failed' % url)
    return digest


def api(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read()
    return json.loads(text) if text else None


# --- the two servers -------------------------------------------------------

class LiteServer:
    """glance-lite-api on a free port, noauth, state in workdir; the file
    store, or the rbd store of a tests.ceph_cluster.CephCluster."""

    upload_phases = PHASES[:2]

    def __init__(self, workdir, ceph=None):
        self.name = 'glance_lite' if ceph is None else 'glance_lite rbd'
        self.ceph = ceph
        self.workdir = os.path.join(
            workdir, 'glance-lite' if ceph is None else 'glance-lite-rbd')
        os.makedirs(self.workdir)
        self.config_file = os.path.join(self.workdir, 'glance-lite.conf')
        self.output = os.path.join(self.workdir, 'stdout')
        with open(self.config_file, 'w') as f:
            f.write('[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = 0\n'
                    'server_threads = %d\nstate_path = %s\nlog_file = %s\n'
                    '[paste_deploy]\nflavor = noauth\n'
                    % (LITE_THREADS, os.path.join(self.workdir, 'state'),
                       os.path.join(self.workdir, 'api.log')))
            if ceph is not None:
                options = dict(ceph.glance_config(), stores='file, rbd',
                               default_store='rbd')
                f.write('[glance_store]\n' + ''.join(
                    '%s = %s\n' % item for item in options.items()))
        if ceph is not None:
            self.upload_phases = PHASES[:2] + (DECLARED,)
        self.process = self.url = self.pid = None

    def describe(self):
        store = ('the file store' if self.ceph is None else
                 'rbd (one mon, mgr and bluestore OSD on a sparse file, '
                 'size 1, rbd_store_chunk_size %d MiB)'
                 % self.ceph.glance_config()['rbd_store_chunk_size'])
        return '%s, glance-lite-api: %d threads, %s' % (
            self.name, LITE_THREADS, store)

    def start(self):
        command = os.path.join(os.path.dirname(sys.executable),
                               'glance-lite-api')
        with open(self.output, 'w') as out:
            self.process = subprocess.Popen(
                [command, '--config-file', self.config_file],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError('glance-lite-api exited: %s'
                                 % open(self.output).read()[-3000:])
            match = re.search(r'listening on (http://[\d.]+:\d+)',
                              open(self.output).read())
            if match:
                self.url = match.group(1)
                return self
            time.sleep(0.1)
        self.stop()
        raise BenchError('glance-lite-api did not start')

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def upload(self, path, chunked, declare_size=False):
        """POST the file as a new image: (image id, seconds)."""
        # One answer file per thread: uploads may run concurrently.
        out = os.path.join(self.workdir,
                           'answer-%d.json' % threading.get_ident())
        declared = (['-H', 'x-image-meta-size: %d' % os.path.getsize(path)]
                    if declare_size else [])
        status, seconds, _ = curl(
            ['-X', 'POST', '-o', out, '-H', 'x-image-meta-name: bench',
             '-H', 'x-image-meta-disk_format: raw',
             '-H', 'x-image-meta-container_format: bare'] + declared
            + upload_args(path, chunked) + [self.url + '/v1/images'])
        with open(out) as f:
            answer = f.read()
        if status != 201:
            raise BenchError('POST /v1/images: %d %s' % (status, answer))
        return json.loads(answer)['image']['id'], seconds

    def data_url(self, image_id):
        return '%s/v1/images/%s' % (self.url, image_id)

    def recorded_checksum(self, image_id):
        request = urllib.request.Request(self.data_url(image_id),
                                         method='HEAD')
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.headers['x-image-meta-checksum']

    def delete(self, image_id):
        api('DELETE', self.data_url(image_id))


class V2Uploads:
    """The Image API v2 byte path of a server: create, then ``PUT
    /v2/images/{id}/file``; ``GET /v2/images/{id}/file``."""

    def upload(self, path, chunked):
        image = api('POST', self.url + '/v2/images',
                    {'name': 'bench', 'disk_format': 'raw',
                     'container_format': 'bare'})
        status, seconds, _ = curl(['-X', 'PUT', '-o', '/dev/null']
                                  + upload_args(path, chunked)
                                  + [self.data_url(image['id'])])
        if status != 204:
            raise BenchError('PUT /v2/images/%s/file: %d'
                             % (image['id'], status))
        return image['id'], seconds

    def data_url(self, image_id):
        return '%s/v2/images/%s/file' % (self.url, image_id)

    def recorded_checksum(self, image_id):
        return api('GET', '%s/v2/images/%s' % (self.url,
                                               image_id))['checksum']

    def delete(self, image_id):
        api('DELETE', '%s/v2/images/%s' % (self.url, image_id))


class LiteV2(V2Uploads):
    """The glance_lite process of a LiteServer, through the Image API v2:
    started and stopped with it."""

    def __init__(self, lite):
        self.lite = lite
        self.name = lite.name + ' v2'

    def describe(self):
        return '%s: the same process, Image API v2' % self.name

    def start(self):
        self.url, self.pid = self.lite.url, self.lite.pid
        return self

    def stop(self):
        pass


class GlanceV2(V2Uploads):
    """Glance 33 under uWSGI (bench/glance/server.py), Image API v2."""

    name = 'Glance 33'

    def __init__(self, workdir, postgresql=None):
        self.server = glance_server.GlanceServer(
            GLANCE_PROCESSES, GLANCE_THREADS,
            workdir=os.path.join(workdir, 'glance'), postgresql=postgresql)
        os.makedirs(self.server.workdir)

    def describe(self):
        return self.server.describe()

    def start(self):
        self.server.start()
        self.url, self.pid = self.server.url, self.server.pid
        return self

    def stop(self):
        self.server.stop(remove=False)


# --- the ceilings ----------------------------------------------------------

class Sink(http.server.BaseHTTPRequestHandler):
    """Loopback peer for the ceilings: PUT reads and discards the body,
    GET sends the file named by the server's ``source`` with sendfile."""

    protocol_version = 'HTTP/1.1'

    def do_PUT(self):
        left = int(self.headers['Content-Length'])
        buf = bytearray(BLOCK)
        while left:
            n = self.rfile.readinto(memoryview(buf)[:min(left, BLOCK)])
            if not n:
                break
            left -= n
        self._answer(204, 0)

    def do_GET(self):
        size = os.path.getsize(self.server.source)
        self._answer(200, size)
        self.wfile.flush()
        with open(self.server.source, 'rb') as f:
            sent = 0
            while sent < size:
                sent += os.sendfile(self.connection.fileno(), f.fileno(),
                                    sent, size - sent)

    def _answer(self, status, length):
        self.send_response(status)
        self.send_header('Content-Length', str(length))
        self.send_header('Connection', 'close')
        self.end_headers()

    def log_message(self, *args):
        pass


def start_sink(source):
    sink = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Sink)
    sink.source = source
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    return sink, 'http://127.0.0.1:%d/' % sink.server_address[1]


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def md5sum(path, command='md5sum'):
    return subprocess.run([command, path], check=True, capture_output=True,
                          text=True).stdout.split()[0]


def python_copy(src, dst):
    """The naive server loop: read, hash, write, one thread."""
    md5 = hashlib.md5()
    with open(src, 'rb') as fin, open(dst, 'wb') as fout:
        while True:
            block = fin.read(BLOCK)
            if not block:
                break
            md5.update(block)
            fout.write(block)
    os.unlink(dst)
    return md5.hexdigest()


def ceilings(path, size, sink_url, expected, record):
    """``expected``: the file's (md5, sha512) hex digests."""
    digest, seconds = timed(md5sum, path)
    record('md5sum', size / MIB / seconds, digest == expected[0])
    digest, seconds = timed(md5sum, path, 'sha512sum')
    record('sha512sum', size / MIB / seconds, digest == expected[1])
    digest, seconds = timed(python_copy, path, path + '.copy')
    record('Python read-md5-write', size / MIB / seconds,
           digest == expected[0])
    status, seconds, _ = curl(['-X', 'PUT', '-o', '/dev/null', '-T', path,
                               sink_url])
    record('loopback upload (curl -> sink)', size / MIB / seconds,
           status == 204)
    status, seconds, got = curl(['-o', '/dev/null', sink_url])
    record('loopback download (sendfile -> curl)', size / MIB / seconds,
           status == 200 and got == size)


# --- the benchmark ---------------------------------------------------------

class Results:
    def __init__(self):
        self.rates = {}    # (size, row) -> [MiB/s]
        self.peaks = {}    # (size, row) -> [bytes]
        self.idle = {}     # server name -> bytes
        self.parallel_failures = {}  # server name -> [failed uploads]
        self.problems = []

    def add(self, size, row, rate, peak=None):
        self.rates.setdefault((size, row), []).append(rate)
        if peak is not None:
            self.peaks.setdefault((size, row), []).append(peak)


def server_run(server, sampler, path, size, expected, results, run):
    images = []
    try:
        for phase in getattr(server, 'upload_phases', PHASES[:2]):
            sampler.reset()
            image_id, seconds = (
                server.upload(path, False, declare_size=True)
                if phase == DECLARED else
                server.upload(path, 'chunked' in phase))
            images.append(image_id)
            results.add(size, (server.name, phase), size / MIB / seconds,
                        sampler.peak())
        sampler.reset()
        status, seconds, got = curl(['-o', '/dev/null',
                                     server.data_url(images[0])])
        if status != 200 or got != size:
            raise BenchError('%s GET %s: %d, %d bytes'
                             % (server.name, images[0], status, got))
        results.add(size, (server.name, 'download'), size / MIB / seconds,
                    sampler.peak())
        for image_id in images:
            checks = (('data md5', md5_of_url(server.data_url(image_id))),
                      ('recorded checksum',
                       server.recorded_checksum(image_id)))
            for what, value in checks:
                if value != expected:
                    results.problems.append(
                        'run %d %s image %s: %s %s, expected %s'
                        % (run, server.name, image_id, what, value,
                           expected))
    finally:
        for image_id in images:
            server.delete(image_id)


def parallel_uploads(server, sampler, path, count, size, results):
    """count concurrent Content-Length uploads: aggregate MiB/s."""
    outcomes = [None] * count

    def one(index):
        try:
            outcomes[index] = server.upload(path, False)[0]
        except Exception as error:  # noqa: BLE001 - reported below
            outcomes[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    sampler.reset()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    peak = sampler.peak()
    failed = [o for o in outcomes if isinstance(o, Exception)]
    for image_id in outcomes:
        if isinstance(image_id, Exception):
            continue
        try:
            if server.recorded_checksum(image_id) != results.parallel_md5:
                results.problems.append('%s parallel image %s: wrong '
                                        'checksum' % (server.name, image_id))
            server.delete(image_id)
        except urllib.error.HTTPError as error:
            results.problems.append('%s parallel image %s: HEAD or DELETE '
                                    'answered %s' % (server.name, image_id,
                                                     error))
    if failed:
        results.problems.append('%s: %d of %d parallel uploads failed: %s'
                                % (server.name, len(failed), count,
                                   failed[0]))
        results.parallel_failures.setdefault(server.name, []).append(
            len(failed))
        return
    results.add('parallel', (server.name, 'aggregate upload'),
                count * size / MIB / seconds, peak)


def make_file(path, size):
    """Write ``size`` random bytes; their (md5, sha512) hex digests."""
    md5, sha512 = hashlib.md5(), hashlib.sha512()
    with open(path, 'wb') as f:
        for _ in range(size // BLOCK):
            block = os.urandom(BLOCK)
            md5.update(block)
            sha512.update(block)
            f.write(block)
    return md5.hexdigest(), sha512.hexdigest()


# --- the report ------------------------------------------------------------

def fmt_rates(rates):
    return ('%.0f' % statistics.median(rates),
            '%.0f–%.0f' % (min(rates), max(rates)))


def render(args, servers, results, load):
    lines = report.run_header('bench/transfers.py', load)
    lines += [
    ] + ['- %s' % server.describe() for server in servers] + [
        '- idle RSS: %s' % ', '.join(
            '%s %.0f MiB' % (s.name, results.idle[s.name] / MIB)
            for s in servers), '']
    sizes = [s for s in args.sizes]
    for size in sizes:
        lines += ['### %s, %d runs (MiB/s: median, min–max; peak RSS of '
                  'the server and its growth over idle)' % (label(size),
                                                            args.runs), '',
                  '| transfer | median | min–max | % of ceiling | '
                  'peak RSS | growth |',
                  '|---|---:|---:|---:|---:|---:|']
        rows = [key[1] for key in results.rates if key[0] == size]
        ceilings = {row: statistics.median(results.rates[(size, row)])
                    for row in rows if isinstance(row, str)}
        for row in rows:
            median, spread = fmt_rates(results.rates[(size, row)])
            if isinstance(row, str):
                lines.append('| ceiling: %s | %s | %s | | | |'
                             % (row, median, spread))
                continue
            server, phase = row
            ceiling = (ceilings.get('md5sum') if 'upload' in phase else
                       ceilings.get('loopback download (sendfile -> curl)'))
            peak = max(results.peaks[(size, row)])
            lines.append('| %s %s | %s | %s | %.0f %% | %.0f MiB | +%.1f MiB |'
                         % (server, phase, median, spread,
                            100 * statistics.median(
                                results.rates[(size, row)]) / ceiling,
                            peak / MIB,
                            (peak - results.idle[server]) / MIB))
        lines.append('')
    lines += ['Upload percentages are of the md5sum ceiling, download '
              'percentages of the loopback download ceiling. Every '
              'glance_lite upload, v1 and v2, also computes the sha512 '
              'multihash (Glance 33 too): the sha512sum ceiling bounds it '
              'as well.']
    lines += ['PROBLEM: %s' % p for p in results.problems]
    parallel = [lines[0], '',
                '%d concurrent uploads (Content-Length) of %s, %d runs, on '
                'the machine of the transfers section (load average %.1f '
                'at the start, %.1f at the end):'
                % (args.parallel, label(args.parallel_size), args.runs,
                   load[0], load[1]), '',
                '| server | aggregate MiB/s | min–max | peak RSS | growth |',
                '|---|---:|---:|---:|---:|']
    for server in servers:
        key = ('parallel', (server.name, 'aggregate upload'))
        if key in results.rates:
            median, spread = fmt_rates(results.rates[key])
            peak = max(results.peaks[key])
            parallel.append('| %s | %s | %s | %.0f MiB | +%.1f MiB |' % (
                server.name, median, spread, peak / MIB,
                (peak - results.idle[server.name]) / MIB))
        for failed in results.parallel_failures.get(server.name, []):
            parallel.append('| %s: a run with %d of %d uploads failed '
                            '(not counted) | | | | |'
                            % (server.name, failed, args.parallel))
    parallel += [''] + ['PROBLEM: %s' % p for p in results.problems
                        if 'parallel' in p]
    return '\n'.join(lines), '\n'.join(parallel)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1G,2G',
                        type=lambda t: [parse_size(s) for s in t.split(',')
                                        if s],
                        help='image sizes (default 1G,2G); empty: only the '
                             'concurrent uploads')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--parallel', type=int, default=8,
                        help='concurrent uploads (default 8; 0: none)')
    parser.add_argument('--parallel-size', type=parse_size,
                        default=parse_size('1G'))
    parser.add_argument('--workdir', default=None)
    parser.add_argument('--glance-postgresql', metavar='ADMIN_URL',
                        help='serve Glance\'s catalogue from a new database '
                             'on this PostgreSQL server (e.g. postgresql://'
                             'postgres@127.0.0.1:5432/postgres) instead of '
                             'SQLite, on which it fails concurrent uploads')
    parser.add_argument('--rbd', action='store_true',
                        help='also a glance_lite on the rbd store of a '
                             'one-node Ceph cluster started for the run '
                             '(tools/ceph/setup.sh installs it)')
    parser.add_argument('--no-glance', action='store_true',
                        help='leave Glance 33 out')
    parser.add_argument('--no-report', action='store_true',
                        help='print only; leave docs/performance.md alone')
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix='bench-transfers-', dir=args.workdir)
    results = Results()
    servers, samplers = [], []
    cluster = None
    load = [os.getloadavg()[0]]
    try:
        servers = [LiteServer(workdir)]
        servers.append(LiteV2(servers[0]))
        if args.rbd:
            cluster = ceph_cluster.CephCluster().start(
                os.path.join(workdir, 'ceph'))
            servers.append(LiteServer(workdir, ceph=cluster))
        if not args.no_glance:
            servers.append(GlanceV2(workdir, args.glance_postgresql))
        for server in servers:
            server.start()
            sampler = procstat.RssSampler(server.pid)
            sampler.start()
            samplers.append(sampler)
            results.idle[server.name] = sampler.idle()
            print('%s: %s (pid %d)' % (server.name, server.url, server.pid),
                  flush=True)
        for size in args.sizes:
            path = os.path.join(workdir, 'image-%d' % size)
            print('writing %s test file' % label(size), flush=True)
            digests = make_file(path, size)
            expected = digests[0]
            sink, sink_url = start_sink(path)
            try:
                for run in range(1, args.runs + 1):
                    print('%s run %d/%d' % (label(size), run, args.runs),
                          flush=True)
                    ceilings(path, size, sink_url, digests,
                             lambda row, rate, ok: (
                                 results.add(size, row, rate),
                                 ok or results.problems.append(
                                     '%s failed' % row)))
                    for server, sampler in zip(servers, samplers):
                        server_run(server, sampler, path, size, expected,
                                   results, run)
            finally:
                sink.shutdown()
                sink.server_close()
            if size != args.parallel_size:
                os.unlink(path)
        if args.parallel:
            path = os.path.join(workdir, 'image-%d' % args.parallel_size)
            if not os.path.exists(path):
                make_file(path, args.parallel_size)
            results.parallel_md5 = md5sum(path)
            for run in range(1, args.runs + 1):
                for server, sampler in zip(servers, samplers):
                    print('%d parallel uploads to %s, run %d/%d'
                          % (args.parallel, server.name, run, args.runs),
                          flush=True)
                    parallel_uploads(server, sampler, path, args.parallel,
                                     args.parallel_size, results)
    except (BenchError, OSError, glance_server.GlanceError,
            ceph_cluster.CephError) as error:
        results.problems.append('FAILED: %s' % error)
    finally:
        for sampler in samplers:
            sampler.stop()
        for server in servers:
            server.stop()
        if cluster is not None:
            cluster.stop()
        load.append(os.getloadavg()[0])
        if results.problems:
            # The servers' logs say why; the images are gone already.
            logs = tempfile.mkdtemp(prefix='bench-transfers-logs-')
            for root, _dirs, files in os.walk(workdir):
                for name in files:
                    if name.endswith('.log'):
                        shutil.copy(os.path.join(root, name), os.path.join(
                            logs, os.path.basename(root) + '-' + name))
            results.problems.append('server logs kept in %s' % logs)
        shutil.rmtree(workdir, ignore_errors=True)

    if len(results.idle) < len(servers) or not servers:
        print('\n'.join(results.problems))
        return 1
    transfers, parallel = render(args, servers, results, load)
    print('\n' + transfers + '\n\n' + parallel)
    if not args.no_report:
        # Only the sections this run measured.
        if args.sizes:
            report.replace_section('transfers', transfers)
        if args.parallel:
            report.replace_section('uploads8', parallel)
        print('\nwritten to %s' % report.PERFORMANCE_DOC)
    return 1 if results.problems else 0


if __name__ == '__main__':
    sys.exit(main())
