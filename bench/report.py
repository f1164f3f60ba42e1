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
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PERFORMANCE_DOC = os.path.join(TOP, 'docs', 'performance.md')
SECTIONS = ('transfers', 'uploads8', 'catalogue', 'requests')


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
