"""No module of glance_lite uses a private name of cheroot: none imports
one, or a private cheroot module, and none reads or calls an attribute
that cheroot names with a leading underscore (``_fetch``,
``_bind_addr``...) unless the module defines that name itself. Requirements
allow a range of cheroot releases; only its public API holds across
them."""

import ast
import importlib
import inspect
import pathlib
import pkgutil

import cheroot

import glance_lite

PACKAGE = pathlib.Path(glance_lite.__file__).parent


def _private(name):
    return name.startswith('_') and not (
        name.startswith('__') and name.endswith('__'))


def cheroot_private_names():
    """Private names of cheroot's modules and classes (not those its
    classes inherit from the standard library)."""
    names = set()
    for info in pkgutil.walk_packages(cheroot.__path__, 'cheroot.'):
        if '.test' in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional TLS library is missing
            continue
        for name, value in vars(module).items():
            if _private(name):
                names.add(name)
            if inspect.isclass(value):
                for cls in inspect.getmro(value):
                    if cls.__module__.startswith('cheroot'):
                        names.update(n for n in vars(cls) if _private(n))
    return names


def own_names(tree):
    """Names a module defines: functions, classes, assigned attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(
                node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def private_cheroot_uses(source, private, own=frozenset()):
    """(line, name) of each private cheroot name ``source`` uses; names
    it defines itself, or that are in ``own``, are not cheroot's."""
    tree = ast.parse(source)
    own = own | own_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
                node.module or '').split('.')[0] == 'cheroot':
            if any(_private(part) for part in node.module.split('.')):
                found.append((node.lineno, node.module))
            found.extend((node.lineno, alias.name) for alias in node.names
                         if _private(alias.name))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names
                         if alias.name.split('.')[0] == 'cheroot' and any(
                             _private(p) for p in alias.name.split('.')))
        elif isinstance(node, ast.Attribute) and (
                node.attr in private and node.attr not in own):
            found.append((node.lineno, node.attr))
    return found


def test_no_module_uses_a_private_name_of_cheroot():
    private = cheroot_private_names()
    sources = {path: path.read_text()
               for path in sorted(PACKAGE.rglob('*.py'))}
    # A private name glance_lite defines is its own, wherever it is used.
    own = set().union(*(own_names(ast.parse(source))
                        for source in sources.values()))
    uses = {}
    for path, source in sources.items():
        found = private_cheroot_uses(source, private, own)
        if found:
            uses[str(path.relative_to(PACKAGE))] = found
    assert uses == {}


def test_the_check_sees_private_uses():
    private = cheroot_private_names()
    source = '\n'.join([
        'from cheroot import _compat',
        'from cheroot._compat import ntob',
        'import cheroot._compat',
        'from cheroot import server',
        'class Body(server.ChunkedRFile):',
        '    def read(self):',
        '        self._fetch()',
        '        return self._own',
        '    def _own(self):',
        '        pass',
    ])
    assert [name for _line, name in private_cheroot_uses(source, private)
            ] == ['_compat', 'cheroot._compat', 'cheroot._compat', '_fetch']
