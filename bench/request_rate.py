"""Request rate: 100 concurrent clients on metadata requests, glance_lite
and Glance 33 side by side.

One command (from the top of a checkout; wrk is installed from Debian and
Glance from PyPI on first use)::

    .venv/bin/python bench/request_rate.py [--seconds 10] [--rounds 3]
        [--connections 100] [--images 200] [--threads 32]
        [--profile] [--no-report]

Both servers run as one process with ``--threads`` (32) threads, on an
SQLite catalogue of ``--images`` images (4 custom properties each) made
through their own APIs: glance-lite-api (cheroot, its standalone server,
``server_threads``) and Glance under uWSGI (bench/glance/server.py,
``processes = 1``, ``threads`` the same number). Neither authenticates.

``wrk`` (``--connections`` connections, 2 client threads, ``--seconds``
per case, bounded by its ``--timeout``) measures requests/s and the 99th
percentile latency of:

* glance_lite: ``HEAD /v1/images/{id}``, ``GET /v1/images`` (limit 25)
  and ``GET /v1/images/detail`` (limit 25);
* Glance: ``GET /v2/images/{id}`` and ``GET /v2/images`` (limit 25, its
  default).

Glance's uWSGI setup adds ``Connection: close`` to every answer (as
deployed), so each of its requests opens a new connection; glance_lite
is measured both with keep-alive and with ``Connection: close`` sent by
the client, and the ratios use the latter (same connection handling on
both sides). The rounds alternate the servers (A B A B) so a change in
the machine's load hits both; the tables give the median of the rounds.
A case with any non-2xx answer or socket error fails the script.

``--profile`` samples glance-lite-api with py-spy (installed into the
venv if missing; only the thread holding the GIL, i.e. the server's
Python CPU time) during a keep-alive HEAD run and prints the share of
samples spent in cheroot, SQLAlchemy, SQLite connection set-up, policy,
logging, the WSGI stack and glance_lite's own code, and the top
functions.

``--workers 1,2`` measures glance-lite-api alone instead, once per
``workers`` value (a parent and that many worker processes sharing the
listening socket, each with ``--threads`` threads), with the same cases;
its table goes into the ``workers`` section.

The figures are printed as Markdown and written into the ``requests``
section of docs/performance.md (unless ``--no-report``). A benchmark, not
a test: pytest never collects it.
"""

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.glance import server as glance_server  # noqa: E402
from bench import report  # noqa: E402
from tests import server as test_server  # noqa: E402

WRK_CLIENT_THREADS = 2
WRK_TIMEOUT = '10s'
HEAD_SCRIPT = 'wrk.method = "HEAD"\n'
DISTROS = ['ubuntu', 'debian', 'centos', 'fedora', 'cirros', 'windows']


def _log(message):
    print(message, file=sys.stderr, flush=True)


def ensure_wrk():
    """The path of wrk, installed from Debian if missing."""
    found = shutil.which('wrk')
    if found:
        return found
    _log('bench: installing wrk (apt-get)')
    subprocess.run(['apt-get', 'install', '-y', '-q', 'wrk'], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which('wrk')


# -- the servers --------------------------------------------------------------

def _properties(i):
    return {'os_distro': DISTROS[i % len(DISTROS)],
            'architecture': 'x86_64', 'build_id': '%08x' % (i * 7919),
            'hw_disk_bus': 'virtio'}


class GlanceLite:
    name = 'glance_lite'

    def __init__(self, threads, workers=None):
        self.threads = threads
        self.workers = workers
        options = {'server_threads': threads}
        if workers:
            options['workers'] = workers
            self.name = 'glance_lite %d worker(s)' % workers
        self.server = test_server.Server(config={'DEFAULT': options})

    def describe(self):
        processes = ('1 process' if not self.workers else
                     'a parent and %d worker process(es)' % self.workers)
        return ('%s: glance-lite-api (cheroot), %s x %d threads, SQLite, '
                'noauth, request log on' % (self.name, processes,
                                            self.threads))

    def start(self):
        self.server.start()
        self.url = self.server.url
        self.pid = self.server.process.pid

    def stop(self):
        self.server.stop()

    def make_images(self, count):
        ids = []
        with requests.Session() as session:
            for i in range(count):
                headers = {'x-image-meta-name': 'image-%04d' % i,
                           'x-image-meta-is_public': 'true',
                           'x-image-meta-disk_format': 'qcow2',
                           'x-image-meta-container_format': 'bare'}
                headers.update(('x-image-meta-property-%s' % k, v)
                               for k, v in _properties(i).items())
                answer = session.post(self.url + '/v1/images',
                                      headers=headers, timeout=60)
                answer.raise_for_status()
                ids.append(answer.json()['image']['id'])
        return ids

    def cases(self, image_id):
        return [('HEAD /v1/images/{id}', '/v1/images/' + image_id, True),
                ('GET /v1/images', '/v1/images', False),
                ('GET /v1/images/detail', '/v1/images/detail', False)]


class Glance:
    name = 'Glance'

    def __init__(self, threads):
        self.server = glance_server.GlanceServer(processes=1,
                                                 threads=threads)

    def describe(self):
        return self.server.describe()

    def start(self):
        self.server.start()
        self.url = self.server.url
        self.pid = self.server.pid

    def stop(self):
        self.server.stop()

    def make_images(self, count):
        ids = []
        with requests.Session() as session:
            for i in range(count):
                body = {'name': 'image-%04d' % i, 'visibility': 'public',
                        'disk_format': 'qcow2', 'container_format': 'bare'}
                body.update(_properties(i))
                answer = session.post(self.url + '/v2/images', json=body,
                                      timeout=60)
                answer.raise_for_status()
                ids.append(answer.json()['id'])
        return ids

    def cases(self, image_id):
        return [('GET /v2/images/{id}', '/v2/images/' + image_id, False),
                ('GET /v2/images', '/v2/images', False)]


# -- wrk ----------------------------------------------------------------------

_UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 6e4}


def _ms(text):
    number, unit = re.match(r'([\d.]+)(us|ms|s|m)$', text).groups()
    return float(number) * _UNITS[unit]


def listen_overflows():
    """The kernel's count of connections dropped because a listening
    socket's accept queue was full (TcpExt ListenOverflows)."""
    with open('/proc/net/netstat') as f:
        lines = [line.split() for line in f if line.startswith('TcpExt:')]
    return int(dict(zip(lines[0], lines[1]))['ListenOverflows'])


def run_wrk(wrk, url, head, args, close, workdir):
    """{'rps', 'p99_ms', 'p50_ms', 'errors', 'overflows'} of one wrk run
    (overflows: the machine's, during the run; a dropped connection
    attempt is retried by the client's kernel after 1 s, then 3 s)."""
    command = [wrk, '-t%d' % WRK_CLIENT_THREADS, '-c%d' % args.connections,
               '-d%ds' % args.seconds, '--timeout', WRK_TIMEOUT, '--latency']
    if close:
        command += ['-H', 'Connection: close']
    if head:
        script = os.path.join(workdir, 'head.lua')
        with open(script, 'w') as f:
            f.write(HEAD_SCRIPT)
        command += ['-s', script]
    overflows = listen_overflows()
    done = subprocess.run(command + [url], capture_output=True, text=True,
                          timeout=args.seconds + 60)
    overflows = listen_overflows() - overflows
    out = done.stdout
    if done.returncode:
        raise RuntimeError('wrk failed: %s%s' % (out, done.stderr))
    errors = 0
    match = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if match:
        errors += int(match.group(1))
    match = re.search(r'Socket errors: connect (\d+), read (\d+), write '
                      r'(\d+), timeout (\d+)', out)
    if match:
        # A read error is the server closing a connection it was asked
        # to close; the others are real failures.
        errors += sum(int(match.group(i)) for i in (1, 3, 4))
    return {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)',
                                   out).group(1)),
            'p50_ms': _ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1)),
            'p99_ms': _ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1)),
            'errors': errors, 'overflows': overflows, 'output': out}


# -- profile ------------------------------------------------------------------

PROFILE_GROUPS = [
    ('cheroot (HTTP parsing, sockets, thread pool)', 'cheroot/'),
    ('SQLAlchemy / oslo.db (sessions, queries, rows)', ('sqlalchemy/',
                                                        'oslo_db/')),
    ('new SQLite connection per session (oslo.db NullPool): connect, '
     'PRAGMAs, close', ('DefaultDialect.connect', 'do_close',
                        '_tune_sqlite_connection', 'on_connect',
                        'Connection.connection (', 'Pool.connect',
                        '_ConnectionFairy._checkout')),
    ('oslo.policy', 'oslo_policy/'),
    ('logging (request log, oslo.log)', ('logging/', 'oslo_log/')),
    ('webob / paste / routes', ('webob/', 'paste/', 'routes/')),
    ('oslo.context / oslo.middleware', ('oslo_context/',
                                        'oslo_middleware/')),
    ('glance_lite code (own frames)', 'glance_lite/'),
]


def ensure_py_spy():
    py_spy = os.path.join(os.path.dirname(sys.executable), 'py-spy')
    if not os.path.exists(py_spy):
        _log('bench: installing py-spy into the venv')
        subprocess.run([sys.executable, '-m', 'pip', 'install', '-q',
                        'py-spy'], check=True)
    return py_spy


def profile(server, wrk, image_id, args, workdir):
    """Share of py-spy samples (all threads, idle ones excluded) whose
    stack holds each group, and the top self-time functions."""
    py_spy = ensure_py_spy()
    raw = os.path.join(workdir, 'profile.txt')
    sampler = subprocess.Popen(
        [py_spy, 'record', '--pid', str(server.pid), '--duration',
         str(int(args.seconds)), '--rate', '200', '--format', 'raw',
         '--gil', '--nonblocking', '--output', raw],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    label, path, head = server.cases(image_id)[0]
    run_wrk(wrk, server.url + path, head, args, False, workdir)
    sampler.wait(timeout=args.seconds + 60)
    stacks = collections.Counter()
    with open(raw) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(' ')
            if count.isdigit():  # a frame may span lines (py-spy quirk)
                stacks[stack] += int(count)
    # Only the thread holding the GIL is sampled (--gil): the server runs
    # Python one thread at a time, so these shares are its CPU time.
    busy = stacks
    total = sum(busy.values()) or 1
    shares = []
    for group, prefixes in PROFILE_GROUPS:
        prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
        hits = sum(n for s, n in busy.items()
                   if any(p in s for p in prefixes))
        shares.append((group, 100.0 * hits / total))
    leaves = collections.Counter()
    for stack, count in busy.items():
        leaves[stack.split(';')[-1]] += count
    top = [(name, 100.0 * n / total) for name, n in leaves.most_common(12)]
    return label, shares, top


# -- the run ------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--connections', type=int, default=100)
    parser.add_argument('--images', type=int, default=200)
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--no-report', action='store_true')
    parser.add_argument('--workers', metavar='N,N',
                        help='Measure glance-lite-api alone, with each of '
                             'these workers values.')
    args = parser.parse_args()
    wrk = ensure_wrk()
    workdir = tempfile.mkdtemp(prefix='bench-requests-')
    if args.workers:
        servers = [GlanceLite(args.threads, int(n))
                   for n in args.workers.split(',')]
    else:
        servers = [GlanceLite(args.threads), Glance(args.threads)]
    results = collections.defaultdict(list)
    load = [os.getloadavg()[0]]
    profiled = None
    try:
        image_ids = {}
        for server in servers:
            server.start()
            started = time.monotonic()
            ids = server.make_images(args.images)
            # An image from the middle, so neither end is favoured.
            image_ids[server.name] = ids[len(ids) // 2]
            _log('%s: %d images in %.1f s' % (server.name, args.images,
                                              time.monotonic() - started))
        for round_number in range(args.rounds):
            for server in servers:
                for label, path, head in server.cases(
                        image_ids[server.name]):
                    modes = [True] + ([False] if isinstance(server,
                                                            GlanceLite)
                                      else [])
                    for close in modes:
                        figures = run_wrk(wrk, server.url + path, head, args,
                                          close, workdir)
                        if figures['errors']:
                            raise RuntimeError('%s %s: %d failed requests:'
                                               '\n%s' % (server.name, label,
                                                         figures['errors'],
                                                         figures['output']))
                        key = (server.name, label, close)
                        results[key].append(figures)
                        _log('round %d %-12s %-24s %-10s %8.0f req/s  p99 '
                             '%7.1f ms' % (round_number + 1, server.name,
                                           label, 'close' if close
                                           else 'keep-alive', figures['rps'],
                                           figures['p99_ms']))
        if args.profile:
            try:
                profiled = profile(servers[0], wrk,
                                   image_ids[servers[0].name], args, workdir)
            except (OSError, ValueError, subprocess.SubprocessError) as error:
                _log('profile failed: %s' % error)
    finally:
        load.append(os.getloadavg()[0])
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = render(args, servers, results, load, profiled)
    print(text)
    os.makedirs(os.path.join(ROOT, '.bench'), exist_ok=True)
    with open(os.path.join(ROOT, '.bench', '%s.json' % (
            'workers' if args.workers else 'requests')), 'w') as f:
        json.dump({'%s|%s|%s' % key: [{k: v for k, v in r.items()
                                       if k != 'output'} for r in runs]
                   for key, runs in results.items()}, f, indent=1)
    if not args.no_report:
        report.replace_section('workers' if args.workers else 'requests',
                               text)
    return 0


def _median(runs, field):
    return statistics.median(r[field] for r in runs)


def render(args, servers, results, load, profiled):
    lines = report.run_header('bench/request_rate.py', load)
    lines += ['- %s' % server.describe() for server in servers]
    lines += [
        '- wrk: %d connections, %d client threads, %d s per case, '
        'median of %d rounds (A B A B); catalogue of %d images '
        'with 4 properties each, made through each API'
        % (args.connections, WRK_CLIENT_THREADS, args.seconds,
           args.rounds, args.images), '',
        '| request | connections | requests/s | p50 ms | p99 ms | '
        'listen queue overflows |',
        '|---|---|---:|---:|---:|---:|']
    for (name, label, close), runs in results.items():
        lines.append('| %s %s | %s | %.0f | %.1f | %.1f | %.0f |' % (
            name, label, 'close' if close else 'keep-alive',
            _median(runs, 'rps'), _median(runs, 'p50_ms'),
            _median(runs, 'p99_ms'), _median(runs, 'overflows')))
    pairs = [('HEAD /v1/images/{id}', 'GET /v2/images/{id}'),
             ('GET /v1/images', 'GET /v2/images'),
             ('GET /v1/images/detail', 'GET /v2/images')]
    if len(servers) == 2 and isinstance(servers[1], Glance):
        lines += ['', 'Ratios (target: glance_lite >= 3x Glance, both with '
                  'Connection: close):', '']
    for ours, theirs in pairs:
        a = results.get(('glance_lite', ours, True))
        b = results.get(('Glance', theirs, True))
        if a and b:
            ratio = _median(a, 'rps') / _median(b, 'rps')
            lines.append('- %s / Glance %s: %.2fx (%s)' % (
                ours, theirs, ratio, 'met' if ratio >= 3 else 'NOT met'))
    if profiled:
        label, shares, top = profiled
        lines += ['', 'py-spy --gil, glance-lite-api during `%s` with '
                  'keep-alive (share of the samples of the thread holding '
                  'the GIL whose stack holds each part; parts nest, so '
                  'they overlap):' % label, '']
        lines += ['- %s: %.0f %%' % share for share in shares]
        lines += ['', 'Top functions by own time:', '']
        lines += ['- `%s`: %.1f %%' % item for item in top]
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
