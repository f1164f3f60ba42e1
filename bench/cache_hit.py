"""Image cache: a hit against a plain file-store download, same image
size, same server, same run (spec §20, issue "what Glance's v1 gave
operators").

One command (from the top of a checkout)::

    .venv/bin/python bench/cache_hit.py [--size 1G] [--runs 3]
                                        [--workdir DIR] [--no-report]

glance-lite-api (bench/transfers.py's LiteServer) runs with the flavor
``noauth+caching``. For each run, a new image of ``--size`` bytes is
uploaded; curl (``time_total``, bytes discarded) then times:

* ``miss``: the first download, which streams from the file store and
  fills the cache entry on the way (the bytes pass through Python);
* ``hit``: the next download, from the cache entry (sendfile);
* ``file store``: a download of the same data from a second image on a
  server without the cache (``noauth``: sendfile from the store's file);

each checked for its size, and the cache entry for the image's md5. The
medians go into the ``cache`` section of docs/performance.md (unless
``--no-report``). A benchmark, not a test: pytest never runs it.
"""

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from bench import report  # noqa: E402
from bench import transfers  # noqa: E402

MIB = transfers.MIB


class CachingServer(transfers.LiteServer):
    """LiteServer with the image cache in front of its file store."""

    def __init__(self, workdir, flavor):
        os.makedirs(os.path.join(workdir, flavor))
        super().__init__(os.path.join(workdir, flavor))
        with open(self.config_file) as f:
            text = f.read()
        with open(self.config_file, 'w') as f:
            f.write(text.replace('flavor = noauth', 'flavor = %s' % flavor))
        self.flavor = flavor

    def cache_file(self, image_id):
        return os.path.join(self.workdir, 'state', 'image-cache', image_id)


def timed_download(url, size):
    status, seconds, got = transfers.curl(['-o', '/dev/null', url])
    if status != 200 or got != size:
        raise transfers.BenchError(
            'GET %s: %d, %d bytes' % (url, status, got))
    return size / MIB / seconds


def wait_for(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise transfers.BenchError('no cache entry %s' % path)
        time.sleep(0.05)


def md5_of(path):
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(MIB), b''):
            digest.update(block)
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=transfers.parse_size,
                        default=transfers.parse_size('1G'))
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--workdir')
    parser.add_argument('--no-report', action='store_true')
    args = parser.parse_args(argv)
    load = [os.getloadavg()[0]]
    workdir = tempfile.mkdtemp(prefix='bench-cache-', dir=args.workdir)
    rates = {'miss': [], 'hit': [], 'file store': []}
    caching = CachingServer(workdir, 'noauth+caching')
    plain = CachingServer(workdir, 'noauth')
    try:
        data_path = os.path.join(workdir, 'image')
        expected = transfers.make_file(data_path, args.size)
        caching.start()
        plain.start()
        for _run in range(args.runs):
            cached_id, _ = caching.upload(data_path, chunked=False)
            plain_id, _ = plain.upload(data_path, chunked=False)
            rates['miss'].append(timed_download(
                caching.data_url(cached_id), args.size))
            wait_for(caching.cache_file(cached_id))
            rates['hit'].append(timed_download(
                caching.data_url(cached_id), args.size))
            rates['file store'].append(timed_download(
                plain.data_url(plain_id), args.size))
            if md5_of(caching.cache_file(cached_id)) != expected:
                raise transfers.BenchError('cache entry has the wrong md5')
            caching.delete(cached_id)
            plain.delete(plain_id)
    finally:
        caching.stop()
        plain.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    load.append(os.getloadavg()[0])
    lines = report.run_header('bench/cache_hit.py', load)
    lines += ['', '| %s download, MiB/s (median of %d; min-max) | %s |'
              % (transfers.label(args.size), args.runs, 'rate'),
              '|---|---:|']
    for name, values in rates.items():
        lines.append('| %s | %.0f (%.0f-%.0f) |' % (
            name, statistics.median(values), min(values), max(values)))
    ratio = statistics.median(rates['hit']) / statistics.median(
        rates['file store'])
    lines += ['', 'A hit serves at %.0f %% of a file-store download.'
              % (100 * ratio)]
    text = '\n'.join(lines)
    print(text)
    if not args.no_report:
        report.replace_section('cache', text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
