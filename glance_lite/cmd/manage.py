"""glance-lite-manage: operator commands.

- ``db sync [REVISION]`` / ``db version``: the catalogue's schema.
- ``images clean-stale --saving-older-than SECONDS [--dry-run]``: end
  interrupted uploads (v1: the image killed; v2: queued again) and remove
  their partial data.
- ``store check [--repair]``: store objects no image needs, and images
  whose data is missing or of the wrong size.
- ``images scrub [--daemon [--wakeup-time S]]``, ``images restore ID``,
  ``db purge [--age-in-days N] [--max-rows M]``: the data and records a
  delayed delete leaves (spec §22.7).
- ``cache list | list-queued | queue ID | dequeue ID | delete ID | prune |
  clean [--stall-time S] | prefetch``: this node's image cache (spec
  §20.9), in image_cache_dir; safe while the API serves.

Exit status: 0 done (or consistent), 1 inconsistencies found and left,
2 the command cannot run (bad argument, a store that cannot be listed
or that failed while checked).
The commands of spec §22.7 exit 1 on every failure and refusal, as
Glance's do.
"""

import calendar
import signal
import sys
import threading

from oslo_config import cfg
from oslo_utils import timeutils

from glance_lite.common import exception
from glance_lite import conf as glance_conf
from glance_lite.db import migration
from glance_lite.image import cache as image_cache
from glance_lite.image import cache_maintenance
from glance_lite.image import maintenance
from glance_lite.image import scrub
from glance_lite import store

CONF = cfg.CONF

CLEAN_STALE_HELP = (
    'End the uploads of the images still "saving" that showed no sign of '
    'life for SECONDS, as their API ends a failed upload (v1: the image '
    'killed; v2: queued again for another upload), and remove their '
    'partial data from the store. A live '
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
    try:
        return _check_stores(repair)
    except exception.StoreUnavailable as e:
        # A store failed while listed: the check could not run through.
        print('glance-lite-manage: %s' % e.msg, file=sys.stderr)
        return 2


def _check_stores(repair):
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


SCRUB_HELP = (
    'Remove the data of the pending_delete images (left by delayed_delete) '
    'deleted at least scrub_time seconds ago, scrub_pool_size images at a '
    'time, and mark them deleted. Safe with several scrubbers and API '
    'nodes: each image is claimed in the catalogue first. An image whose '
    'data cannot be removed stays pending_delete and is retried by the next '
    'run; the run then exits 1. With --daemon, runs repeat wakeup_time '
    'seconds after each other\'s end until SIGTERM.')
RESTORE_HELP = (
    'Bring a pending_delete image back, as it was before its delete: '
    'active, with its data, properties and members. Refused (exit 1) '
    'unless it is pending_delete, no scrubber is removing its data and all '
    'its data is still in the store.')
PURGE_HELP = (
    'Remove for good the history rows of deleted images older than '
    '--age-in-days days (memberships removed, and the properties and '
    'locations of images whose data is gone), at most --max-rows per table, '
    'oldest first. Image rows are kept for ever (an image id is never '
    'reused), and nothing of a pending_delete image is touched.')


def _print_scrub_results(results):
    for result in results:
        if result.outcome == scrub.FAILED:
            print('%s: failed: %s' % (result.image_id, result.reason))
        elif result.outcome == scrub.SKIPPED:
            print('%s: skipped (taken by another scrubber, or restored)'
                  % result.image_id)
        else:
            print('%s: scrubbed' % result.image_id)
    print('%d image(s) scrubbed, %d failed.' % (
        sum(1 for r in results if r.outcome == scrub.SCRUBBED),
        sum(1 for r in results if r.outcome == scrub.FAILED)), flush=True)


def _images_scrub():
    store.configure()
    if not CONF.command.daemon:
        results = scrub.scrub()
        _print_scrub_results(results)
        return 1 if any(r.outcome == scrub.FAILED for r in results) else 0
    stopping = threading.Event()

    def stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # (Not CONF.command.wakeup_time: that name is the option's.)
    wakeup = CONF.command.wakeup_seconds or CONF.wakeup_time
    scrub.run_daemon(stopping, wakeup, _print_scrub_results)
    return 0


def _images_restore():
    store.configure()
    image_id = CONF.command.image_id
    try:
        scrub.restore(image_id)
    except scrub.RestoreRefused as e:
        print('ERROR: %s' % e.msg, file=sys.stderr)
        return 1
    print('Image %s restored: active.' % image_id)
    return 0


def _purge_arguments():
    """(age in days, max rows) from the command line, with Glance's
    messages for bad values.

    :raises Invalid: a bad value.
    """
    command = CONF.command
    values = {}
    for name, value in (('age_in_days', command.age_in_days),
                        ('max_rows', command.max_rows)):
        try:
            values[name] = int(value)
        except ValueError:
            raise exception.Invalid('Invalid int value for %s: %s'
                                    % (name, value))
    if values['age_in_days'] < 0:
        raise exception.Invalid('Must supply a non-negative value for age.')
    days_since_epoch = calendar.timegm(
        timeutils.utcnow().utctimetuple()) // 86400
    if values['age_in_days'] > days_since_epoch:
        raise exception.Invalid('Maximal age is count of days since epoch.')
    if values['max_rows'] < 1:
        raise exception.Invalid('Minimal rows limit is 1.')
    return values['age_in_days'], values['max_rows']


def _db_purge():
    try:
        age_in_days, max_rows = _purge_arguments()
    except exception.Invalid as e:
        print(e.msg, file=sys.stderr)
        return 1
    for table, count in scrub.purge(age_in_days, max_rows):
        print('%s: %d row(s) purged' % (table, count))
    return 0


def _db_purge_images_table():
    print('glance_lite keeps image rows for ever, so that an image id is '
          'never reused (OSSN-0075): use "db purge" for the rest of the '
          'history.', file=sys.stderr)
    return 1


CACHE_HELP = (
    'The image cache of this node (image_cache_dir), as the API\'s caching '
    'flavors use it; every command is safe while the API serves.')
CACHE_PRUNE_HELP = (
    'Remove the least recently accessed entries until the complete entries '
    'fit in image_cache_max_size.')
CACHE_CLEAN_HELP = (
    'Remove failed fills, fills of processes that died, fills in progress '
    'for longer than the stall time, and entries of images that are '
    'deleted, unknown or not active.')
CACHE_PREFETCH_HELP = (
    'Cache every queued image, oldest first (a few at a time): active ones '
    'are filled with their checksum verified and dequeued; deleted or '
    'unknown ones are dequeued; others stay queued. Exit 1 if a fetch '
    'failed.')


def _open_cache():
    try:
        return image_cache.ImageCache(
            CONF.image_cache_dir, CONF.image_cache_max_size,
            CONF.image_cache_stall_time, CONF.image_cache_sqlite_db)
    except image_cache.CacheUnusable as e:
        raise exception.Invalid('image_cache_dir is not usable: %s' % e)


def _cache_image_id():
    image_id = CONF.command.image_id
    if not image_cache.is_image_id(image_id):
        raise exception.Invalid('Not an image id: %r' % image_id[:64])
    return image_id


def _cache_list():
    entries = _open_cache().entries()
    for entry in entries:
        print('%(image_id)s %(size)d bytes, %(hits)d hit(s), last accessed '
              '%(last_accessed).0f' % entry)
    print('%d cached image(s), %d bytes.' % (
        len(entries), sum(e['size'] for e in entries)))
    return 0


def _cache_list_queued():
    queued = _open_cache().queued()
    for image_id in queued:
        print(image_id)
    print('%d queued image(s).' % len(queued))
    return 0


def _cache_queue():
    image_id = _cache_image_id()
    queued = cache_maintenance.queue(_open_cache(), image_id)
    print('%s %s' % (image_id, 'queued' if queued else
                     'already cached, being cached or queued'))
    return 0


def _cache_dequeue():
    image_id = _cache_image_id()
    done = _open_cache().dequeue(image_id)
    print('%s %s' % (image_id, 'dequeued' if done else 'was not queued'))
    return 0


def _cache_delete():
    image_id = _cache_image_id()
    done = _open_cache().remove(image_id)
    print('%s %s' % (image_id, 'removed' if done else 'was not cached'))
    return 0


def _cache_prune():
    for image_id, size in _open_cache().prune():
        print('%s removed (%d bytes)' % (image_id, size))
    return 0


def _cache_clean():
    cache = _open_cache()
    for what, name in cache.clean(CONF.command.stall_time):
        print('%s removed (%s fill)' % (name, what))
    for image_id, reason in cache_maintenance.remove_unservable(cache):
        print('%s removed (%s)' % (image_id, reason))
    return 0


def _cache_prefetch():
    store.configure()
    outcomes = cache_maintenance.prefetch(_open_cache())
    for outcome in outcomes:
        print('%s %s' % (outcome.image_id, outcome.outcome))
    return 1 if any(outcome.failed for outcome in outcomes) else 0


def _add_cache_commands(subparsers):
    cache = subparsers.add_parser('cache', help=CACHE_HELP,
                                  description=CACHE_HELP)
    commands = cache.add_subparsers(dest='cache_command')
    commands.required = True
    for name, func, help_text in (
            ('list', _cache_list, 'List the complete entries.'),
            ('list-queued', _cache_list_queued,
             'List the prefetch queue, oldest first.'),
            ('prune', _cache_prune, CACHE_PRUNE_HELP),
            ('prefetch', _cache_prefetch, CACHE_PREFETCH_HELP)):
        parser = commands.add_parser(name, help=help_text,
                                     description=help_text)
        parser.set_defaults(func=func)
    for name, func, help_text in (
            ('queue', _cache_queue,
             'Queue an active image for prefetching.'),
            ('dequeue', _cache_dequeue, 'Remove an image from the queue.'),
            ('delete', _cache_delete, 'Remove an image\'s entry.')):
        parser = commands.add_parser(name, help=help_text,
                                     description=help_text)
        parser.add_argument('image_id', metavar='IMAGE_ID')
        parser.set_defaults(func=func)
    clean = commands.add_parser('clean', help=CACHE_CLEAN_HELP,
                                description=CACHE_CLEAN_HELP)
    clean.add_argument('--stall-time', type=int, metavar='S',
                       help='Seconds after which a fill in progress is '
                            'removed (default: image_cache_stall_time).')
    clean.set_defaults(func=_cache_clean)


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
    purge = db_commands.add_parser('purge', help=PURGE_HELP,
                                   description=PURGE_HELP)
    purge.add_argument('--age-in-days', '--age_in_days', dest='age_in_days',
                       default='30', metavar='N',
                       help='Only rows deleted more than N days ago '
                            '(default 30).')
    purge.add_argument('--max-rows', '--max_rows', dest='max_rows',
                       default='100', metavar='M',
                       help='At most M rows per table (default 100).')
    purge.set_defaults(func=_db_purge)
    purge_images = db_commands.add_parser(
        'purge_images_table', help='Refused: glance_lite keeps image rows.')
    purge_images.add_argument('--age-in-days', '--age_in_days')
    purge_images.add_argument('--max-rows', '--max_rows')
    purge_images.set_defaults(func=_db_purge_images_table)

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
    scrub_parser = image_commands.add_parser('scrub', help=SCRUB_HELP,
                                             description=SCRUB_HELP)
    scrub_parser.add_argument('--daemon', '-D', action='store_true',
                              help='Keep scrubbing until SIGTERM.')
    scrub_parser.add_argument('--wakeup-time', type=int, metavar='S',
                              dest='wakeup_seconds',
                              help='Seconds between runs (default: the '
                                   'wakeup_time option).')
    scrub_parser.set_defaults(func=_images_scrub)
    restore = image_commands.add_parser('restore', help=RESTORE_HELP,
                                        description=RESTORE_HELP)
    restore.add_argument('image_id', metavar='IMAGE_ID')
    restore.set_defaults(func=_images_restore)

    store_parser = subparsers.add_parser(
        'store', help='Consistency of the store with the catalogue.')
    store_commands = store_parser.add_subparsers(dest='store_command')
    store_commands.required = True
    check = store_commands.add_parser('check', help=STORE_CHECK_HELP,
                                      description=STORE_CHECK_HELP)
    check.add_argument('--repair', action='store_true',
                       help='Remove orphans and drop bad locations.')
    check.set_defaults(func=_store_check)

    _add_cache_commands(subparsers)


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
    except exception.NotFound as e:
        print('glance-lite-manage: %s' % e.msg, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
