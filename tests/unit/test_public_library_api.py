"""glance_lite uses the libraries it is built on through their public
API only: a private name (one with a leading underscore) of glance_store,
cheroot, oslo.*, SQLAlchemy or webob can change in any release.

Checked from the source: no import of a private module or name of those
libraries (glance_store._drivers excepted: it is where glance_store keeps
the driver classes a store subclasses), and no attribute ``x._name``
unless glance_lite itself defines ``_name`` (its own private helpers and
attributes), so an inherited or foreign private attribute is caught
whatever object it is read from.
"""

import ast
import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PACKAGE = os.path.join(TOP, 'glance_lite')
LIBRARIES = ('glance_store', 'cheroot', 'oslo_config', 'oslo_context',
             'oslo_db', 'oslo_log', 'oslo_middleware', 'oslo_policy',
             'oslo_utils', 'sqlalchemy', 'webob', 'keystonemiddleware',
             'routes', 'paste', 'alembic', 'boto3', 'botocore',
             'swiftclient')
ALLOWED_PRIVATE_MODULES = ('glance_store._drivers',)
# Names that look private but are documented API.
PUBLIC_BY_DOCUMENTATION = {
    # collections.namedtuple (and urllib.parse results) document these.
    '_replace', '_asdict', '_fields', '_make',
    # os._exit: the documented way for a forked child to end without
    # running its parent's clean-up (glance_lite/server/workers.py).
    '_exit',
}
# Known uses of a private hook, each with its reason; keep this short.
KNOWN_EXCEPTIONS = {
    # urllib3 offers no public hook to connect to an address resolved and
    # checked beforehand (the SSRF guard against DNS rebinding); its
    # HTTPConnection._new_conn is what such guards override. urllib3 is
    # pinned in constraints.txt and tests/security covers the guard.
    ('glance_lite/store/external.py', '_new_conn'),
    ('glance_lite/store/external.py', '_dns_host'),
}


def _modules():
    for root, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as f:
                    yield os.path.relpath(path, TOP), ast.parse(f.read())


def _is_private(name):
    return name.startswith('_') and not (
        name.startswith('__') and name.endswith('__'))


def _own_private_names(trees):
    """Every private name glance_lite defines: functions, classes,
    module and class globals, and attributes it assigns to its own objects
    (``self._x = ...``)."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx,
                                                           ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and
                    isinstance(node.ctx, ast.Store) and
                    isinstance(node.value, ast.Name) and
                    node.value.id in ('self', 'cls')):
                # Writing a private attribute of another object (a
                # library's) does not make the name glance_lite's.
                names.add(node.attr)
    return {name for name in names if _is_private(name)}


def _own_private_arguments(trees):
    """The private parameter names of glance_lite's own functions."""
    return {node.arg for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.arg) and _is_private(node.arg)}


def _library(module):
    return module is not None and module.split('.')[0] in LIBRARIES


def _private_module(module):
    return any(_is_private(part) for part in module.split('.')) and not (
        module.startswith(ALLOWED_PRIVATE_MODULES))


def _violations(modules=None):
    modules = list(_modules()) if modules is None else modules
    own = _own_private_names(tree for _path, tree in modules)
    own_arguments = _own_private_arguments(tree for _path, tree in modules)
    found = []
    for path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _library(alias.name) and _private_module(alias.name):
                        found.append((path, node.lineno, alias.name))
            elif isinstance(node, ast.ImportFrom) and _library(node.module):
                if _private_module(node.module):
                    found.append((path, node.lineno, node.module))
                for alias in node.names:
                    if _is_private(alias.name):
                        found.append((path, node.lineno, '%s.%s' % (
                            node.module, alias.name)))
            elif (isinstance(node, ast.Attribute) and
                    _is_private(node.attr) and node.attr not in own and
                    node.attr not in PUBLIC_BY_DOCUMENTATION and
                    (path, node.attr) not in KNOWN_EXCEPTIONS):
                found.append((path, node.lineno, '.' + node.attr))
            elif isinstance(node, ast.keyword) and node.arg and _is_private(
                    node.arg) and node.arg not in own_arguments:
                found.append((path, node.value.lineno, node.arg + '='))
    return found


def test_glance_lite_names_no_private_library_api():
    violations = ['%s:%d uses %s' % v for v in _violations()]
    assert violations == []


def test_the_check_sees_private_attributes_and_imports():
    own = ast.parse('class Store:\n'
                    '    def __init__(self):\n'
                    '        self._chunks = []\n'
                    '    def _read(self):\n'
                    '        return self._chunks, self.__class__\n')
    foreign = ast.parse('from glance_store._drivers import s3\n'
                        'from glance_store import _private_helper\n'
                        'import cheroot._internal\n'
                        'from oslo_db.sqlalchemy import _exc_filters\n'
                        'engine.pool._creator = None\n'
                        'client = store._create_s3_client()\n'
                        'pool = QueuePool(f, _dispatch=old.dispatch)\n'
                        'point = point._replace(x=1)\n')
    found = _violations([('own.py', own), ('foreign.py', foreign)])
    assert [(path, name) for path, _line, name in found] == [
        ('foreign.py', 'glance_store._private_helper'),
        ('foreign.py', 'cheroot._internal'),
        ('foreign.py', 'oslo_db.sqlalchemy._exc_filters'),
        ('foreign.py', '._creator'),
        ('foreign.py', '._create_s3_client'),
        ('foreign.py', '_dispatch='),
    ]
