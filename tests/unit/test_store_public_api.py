"""glance_lite.store uses glance_store through its public API only.

A private name (``_x``) may be imported only as ``glance_store._drivers``,
the package that holds the driver classes glance_lite subclasses; an
attribute ``obj._x`` may be read only when ``_x`` is defined in
glance_lite.store itself (a subclass's own helpers). Attributes glance_store
keeps without an underscore but does not document (the file driver's
datadir map, its chunk iterator's file) are refused by name.
"""

import ast
import pathlib

import pytest

STORE_PACKAGE = pathlib.Path(__file__).parents[2] / 'glance_lite' / 'store'
ALLOWED_PRIVATE_MODULES = {'glance_store._drivers'}
# namedtuple's public API is spelled with an underscore. _dns_host is
# urllib3's, not glance_store's: the host name as the caller gave it,
# read by the SSRF guard's connection hook (external.py).
PUBLIC_UNDERSCORE_NAMES = {'_replace', '_asdict', '_fields', '_make',
                           '_dns_host'}
UNDOCUMENTED_ATTRIBUTES = {'multiple_datadirs', 'priority_data_map',
                           'priority_list', 'timeout_executor', 'fp',
                           'partial', 'partial_length'}


def _modules():
    return sorted(STORE_PACKAGE.glob('*.py'))


def _defined_names(trees):
    """Every name glance_lite.store defines: functions, classes, class
    attributes and attributes assigned on any object."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx,
                                                           ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(
                    node.ctx, ast.Store):
                names.add(node.attr)
    return names


def _private(name):
    return name.startswith('_') and not name.startswith('__')


def _violations(path, tree, own_names):
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            for alias in node.names:
                full = '%s.%s' % (module, alias.name)
                if (_private(alias.name) and full not in
                        ALLOWED_PRIVATE_MODULES) or (
                            any(_private(part) for part in module.split('.'))
                            and module not in ALLOWED_PRIVATE_MODULES):
                    found.append('%s:%d imports %s'
                                 % (path.name, node.lineno, full))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split('.')
                if any(_private(part) for part in parts):
                    found.append('%s:%d imports %s'
                                 % (path.name, node.lineno, alias.name))
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name in UNDOCUMENTED_ATTRIBUTES:
                found.append('%s:%d uses .%s' % (path.name, node.lineno,
                                                 name))
            elif (_private(name) and name not in own_names
                    and name not in PUBLIC_UNDERSCORE_NAMES):
                found.append('%s:%d uses .%s' % (path.name, node.lineno,
                                                 name))
    return found


def test_store_uses_only_public_glance_store_api():
    trees = {path: ast.parse(path.read_text(), str(path))
             for path in _modules()}
    own_names = _defined_names(trees.values())

    found = [v for path, tree in trees.items()
             for v in _violations(path, tree, own_names)]

    assert found == []


@pytest.mark.parametrize('source, expected', [
    ('client = store._create_s3_client()', 'uses ._create_s3_client'),
    ('dirs = store.priority_data_map', 'uses .priority_data_map'),
    ('f = chunks.fp', 'uses .fp'),
    ('from glance_store import backend\nbackend._list_opts()',
     'uses ._list_opts'),
    ('from glance_store.common import _private', 'imports'),
])
def test_the_check_finds_private_uses(source, expected):
    tree = ast.parse(source)

    found = _violations(pathlib.Path('example.py'), tree,
                        _defined_names([tree]))

    assert len(found) == 1 and expected in found[0]
