"""glance-lite-manage: operator commands (database schema)."""

import sys

from oslo_config import cfg

from glance_lite import conf as glance_conf
from glance_lite.db import migration

CONF = cfg.CONF


def _db_sync():
    migration.upgrade(CONF.command.revision)
    print('Database is at revision %s' % migration.current_version())


def _db_version():
    print(migration.current_version() or 'None (empty database)')


def _add_commands(subparsers):
    db = subparsers.add_parser('db', help='Catalogue database schema.')
    db_commands = db.add_subparsers(dest='db_command')
    db_commands.required = True
    sync = db_commands.add_parser('sync', help='Upgrade the schema.')
    sync.add_argument('revision', nargs='?', default='head')
    sync.set_defaults(func=_db_sync)
    version = db_commands.add_parser('version',
                                     help='Print the schema revision.')
    version.set_defaults(func=_db_version)


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    glance_conf.parse_args(sys.argv[1:] if argv is None else argv)
    CONF.command.func()
    return 0


if __name__ == '__main__':
    sys.exit(main())
