"""Every "§N" that code, tests and docs cite names a section of the spec
in docs/spec/, so the reason behind a line can be read in a clone."""

import os
import re

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SPEC_DIR = os.path.join(TOP, 'docs', 'spec')
CITING = ('glance_lite', 'tests', 'bench', 'docs', 'etc', 'tools')
# "§6.5", "§5.2.8" (item 8 of §5.2), "§18 Q9"; "v2 spec §7.2" cites the v2
# spec, and so does every section of a list it heads ("v2 spec §7, §8 and
# §10", "v2 spec §1-§11"). Section 0 explains the notation and is never
# cited.
_SECTION = r'§ ?\d+(?:\.\d+)*(?: Q\d+)?'
CITATION = re.compile(r'(v2 spec |v2 |v1 )?(%s(?:(?:, | and | or |-|–)%s)*)'
                      % (_SECTION, _SECTION))
REFERENCE = re.compile(r'§ ?(\d+(?:\.\d+)?)(?:\.\d+)*(?: (Q\d+))?')
HEADING = re.compile(r'^#{2,3} (\d+(?:\.\d+)?)[. ]', re.MULTILINE)
QUIRK_ROW = re.compile(r'^\| (Q\d+) \|', re.MULTILINE)


def _spec(name):
    with open(os.path.join(SPEC_DIR, name), encoding='utf-8') as f:
        text = f.read()
    return set(HEADING.findall(text)), set(QUIRK_ROW.findall(text))


def _citing_files():
    for top in CITING:
        for root, dirs, files in os.walk(os.path.join(TOP, top)):
            dirs[:] = [d for d in dirs if not d.startswith('.')
                       and d != '__pycache__']
            if os.path.abspath(root).startswith(SPEC_DIR):
                continue
            for name in files:
                if name.endswith(('.py', '.md', '.ini', '.conf', '.sh',
                                  '.lua', '.sample', '.yaml')):
                    yield os.path.join(root, name)
    yield os.path.join(TOP, 'README.md')


def _references():
    for path in _citing_files():
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, 1):
                for citation in CITATION.finditer(line):
                    version = citation.group(1)
                    for match in REFERENCE.finditer(citation.group(2)):
                        yield (os.path.relpath(path, TOP), number,
                               (version,) + match.groups())


def test_the_specs_are_in_the_repository():
    v1_sections, v1_quirks = _spec('image-api-v1.md')
    assert {'5.2', '6.5', '16', '18'} <= v1_sections
    assert {'Q1', 'Q9'} <= v1_quirks
    v2_sections, _quirks = _spec('image-api-v2.md')
    assert {'5.2', '12.1', '21'} <= v2_sections


def test_code_tests_and_docs_cite_the_specs():
    assert len(list(_references())) > 100


@pytest.mark.parametrize('path, line, reference', list(_references()),
                         ids=lambda value: str(value))
def test_every_cited_section_exists(path, line, reference):
    version, section, quirk = reference
    name = ('image-api-v2.md' if version in ('v2 spec ', 'v2 ')
            else 'image-api-v1.md')
    sections, quirks = _spec(name)
    assert section in sections, (
        '%s:%d cites §%s, which docs/spec/%s does not have'
        % (path, line, section, name))
    if quirk:
        assert section == '18' and quirk in quirks, (
            '%s:%d cites §%s %s, which is no row of §18'
            % (path, line, section, quirk))
