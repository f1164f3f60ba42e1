"""glance-lite-manage: operator commands.

- ``db sync [REVISION]`` / ``db version``: the catalogue's schema.
- ``images clean-stale --saving-older-than SECONDS [--dry-run]``: kill
  interrupted uploads and remove their partial data.
- ``store check [--repair]``: store objects no image needs, and images
  whose data is missing or of the wrong size.

Exit status: 0 done (or consistent), 1 inconsistencies found and left,
2 the command cannot run (bad argument, a store that cannot be listed).
"""

import sys

from oslo_config import cfg

from glance_lite.api import maintenance
from glance_lite.common import exception
from glance_lite import conf as glance_conf
from glance_lite.db import migration
from glance_lite import store

CONF = cfg.CONF

CLEAN_STALE_HELP = (
    'Kill the images still "saving" whose upload showed no sign of life '
    'for SECONDS and remove their partial data from the store. A live '
    'upload, on any API node, refreshes its image every '
    'upload_heartbeat_interval seconds and is never touched; the threshold '
    'must be at least twice that interval. Run it from cron or a systemd '
    'timer, with the API nodes\' configuration.')
STORE_CHECK_HELP = (
    'List (1) store objects that no image needs (no such image, or an '
    'image that is killed, deleted or queued) and (2) active or deactivated '
    'images whose data is missing from the store or has another size than '
    'the catalogue records. With --repair: orphans are removed, and each '
    'bad location is dropped; an image left without data becomes "killed" '
    '(its data, if any, is kept and listed as an orphan by the next check). '
    'Data of uploads in progress is never touched. Only the file store can '
    'be listed so far.')


def _db_sync():
    migration.upgrade(CONF.command.revision)
    print('Database is at revision %s' % migration.current_version())
    return 0


def _db_version():
    print(migration.current_version() or 'None (empty database)')
    return 0


def _images_clean_stale():
    store.configure()
    results = maintenance.clean_stale_uploads(
        CONF.command.saving_older_than, dry_run=CONF.command.dry_run)
    for result in results:
        print('%s saving since %s: %s' % (result.image_id,
                                          result.updated_at.isoformat(),
                                          result.outcome))
    print('%d stale upload(s) %s.' % (
        sum(1 for r in results if r.outcome != 'alive'),
        'found' if CONF.command.dry_run else 'cleaned'))
    return 0


def _store_check():
    store.configure()
    repair = CONF.command.repair
    left = 0
    for orphan in maintenance.find_orphans():
        done = repair and maintenance.remove_orphan(orphan)
        left += not done
        print('orphan %s (%d bytes, %s): %s%s' % (
            store.display_uri(orphan.uri), orphan.size, orphan.reason,
            orphan.name, ' -> removed' if done else ''))
    for bad in maintenance.find_bad_images():
        status = repair and maintenance.retire_bad_location(bad)
        left += not status
        print('image %s (%s) %s: %s%s' % (
            bad.image_id, bad.status, store.display_uri(bad.uri),
            bad.problem, ' -> location dropped, image %s' % status
            if status else ''))
    print('Store check: %s.' % ('consistent' if not left else
                                '%d problem(s) left' % left))
    return 1 if left else 0


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

    images = subparsers.add_parser('images', help='Image maintenance.')
    image_commands = images.add_subparsers(dest='images_command')
    image_commands.required = True
    clean = image_commands.add_parser('clean-stale', help=CLEAN_STALE_HELP,
                                      description=CLEAN_STALE_HELP)
    clean.add_argument('--saving-older-than', type=int, required=True,
                       metavar='SECONDS',
                       help='Seconds without a sign of life after which an '
                            'upload is stale (e.g. 3600).')
    clean.add_argument('--dry-run', action='store_true',
                       help='Only list the stale uploads.')
    clean.set_defaults(func=_images_clean_stale)

    store_parser = subparsers.add_parser(
        'store', help='Consistency of the store with the catalogue.')
    store_commands = store_parser.add_subparsers(dest='store_command')
    store_commands.required = True
    check = store_commands.add_parser('check', help=STORE_CHECK_HELP,
                                      description=STORE_CHECK_HELP)
    check.add_argument('--repair', action='store_true',
                       help='Remove orphans and drop bad locations.')
    check.set_defaults(func=_store_check)


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    try:
        glance_conf.parse_args(sys.argv[1:] if argv is None else argv)
    except cfg.Error as e:
        # A missing or unreadable config file: say so, not a traceback.
        print('glance-lite-manage: %s' % e, file=sys.stderr)
        return 2
    try:
        return CONF.command.func()
    except (exception.Invalid, store.EnumerationUnsupported) as e:
        print('glance-lite-manage: %s' % e.msg, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
