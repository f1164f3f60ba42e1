"""Replace one marked section of docs/performance.md with new text.

Each benchmark script owns one section, between ``<!-- bench:NAME -->``
and ``<!-- /bench:NAME -->``, and regenerates it with its latest figures;
everything outside the markers is written by hand and left alone.

From Python::

    from bench import report
    report.replace_section('transfers', text)

From the shell (the new text on standard input)::

    python bench/report.py transfers < figures.md
"""

import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PERFORMANCE_DOC = os.path.join(TOP, 'docs', 'performance.md')
SECTIONS = ('transfers', 'uploads8', 'catalogue', 'requests')


def machine():
    """What the figures ran on: CPU, memory, kernel, disk, versions."""
    def first(command, pattern='(.*)'):
        try:
            text = subprocess.run(command, capture_output=True,
                                  text=True).stdout
        except OSError:
            return '?'
        match = re.search(pattern, text, re.MULTILINE)
        return match.group(1).strip() if match else '?'

    mem = first(['free', '-g'], r'^Mem:\s+(\d+)')
    return [
        'CPU: %s, %d cores; memory %s GiB; kernel %s'
        % (first(['lscpu'], r'^Model name:\s*(.*)$'), os.cpu_count(), mem,
           platform.release()),
        'disk: %s' % first(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '-T',
                            tempfile.gettempdir()]),
        'Python %s; %s' % (platform.python_version(),
                           first(['curl', '--version'], r'^(curl \S+)')),
    ]


def run_header(script, load):
    """The first lines of a section: when and how it ran, on what, and
    the 1-minute load average at the start and at the end (the end
    includes the benchmark's own load)."""
    lines = ['Run %s, `%s`.' % (
        time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        shlex.join([script] + sys.argv[1:])), '']
    lines += ['- %s' % line for line in machine()]
    lines.append('- load average (1 min) %.1f at the start, %.1f at the end'
                 '%s' % (load[0], load[1],
                         ': other work was running on the machine'
                         if max(load) > 1.0 else ''))
    return lines


def markers(name):
    return '<!-- bench:%s -->' % name, '<!-- /bench:%s -->' % name


def replace_section(name, text, path=PERFORMANCE_DOC):
    """Put text between the markers of section name in path; a missing
    marker pair is an error (the document's layout is written by hand)."""
    begin, end = markers(name)
    with open(path) as f:
        document = f.read()
    pattern = re.compile(re.escape(begin) + r'.*?' + re.escape(end),
                         re.DOTALL)
    if len(pattern.findall(document)) != 1:
        raise ValueError('%s must hold exactly one %s ... %s pair'
                         % (path, begin, end))
    body = '%s\n%s\n%s' % (begin, text.strip('\n'), end)
    document = pattern.sub(lambda match: body, document)
    with open(path, 'w') as f:
        f.write(document)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in SECTIONS:
        print('usage: %s {%s} < text' % (sys.argv[0], ','.join(SECTIONS)),
              file=sys.stderr)
        return 2
    replace_section(argv[0], sys.stdin.read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
