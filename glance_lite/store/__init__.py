"""The store facade: image bytes in and out of glance_store drivers.

The API layer calls only this module. It maps glance_store's exceptions to
glance_lite's, and keeps store URIs (which may carry credentials) out of
every message it raises.

Every store is reached through glance_store's public functions. The file
and s3 stores are glance_lite's subclasses of glance_store's drivers
(``local.Store``, ``s3.Store``), loaded by glance_store from the
``glance_store.drivers`` entry points ``glance_lite.file`` and
``glance_lite.s3``; ``configure`` has them loaded for the operator's
``stores = file`` and ``s3``. What glance_lite needs beyond the driver
contract, a store offers as methods of its own, looked up by name:
``data_uris(image_id)``, ``remove_pieces(image_id)``, ``list_objects()``.
"""

import collections
import errno
from importlib import metadata as importlib_metadata
import os
import threading
import urllib.parse

import glance_store
from glance_store import capabilities
from glance_store import exceptions as store_exc
from glance_store import location as store_location
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.store import external
from glance_lite.store import health
from glance_lite.store import local

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# The only schemes a caller may name as an external source. Spec §6.4
# refuses file, filesystem and swift+config (server-local data); the
# other stores' URIs (swift://, s3://, rbd://, ...) name a host or cluster
# the driver would connect to with the caller's credentials, which the
# SSRF guard of ``external`` cannot check: only http(s) are accepted.
EXTERNAL_SCHEMES = external.ALLOWED_SCHEMES

# The entry points (group glance_store.drivers, setup.py) of glance_lite's
# drivers, by the name of glance_store's driver they replace in
# ``[glance_store] stores``. Names of glance_store's own other entry
# points (``glance.store.filesystem.Store``, ...) still load its drivers.
DRIVER_ENTRY_POINTS = {'file': 'glance_lite.file', 'rbd': 'glance_lite.rbd',
                       's3': 'glance_lite.s3', 'swift': 'glance_lite.swift'}
# The remote stores whose health is followed (health.py), by the scheme
# their location URIs start with.
REMOTE_STORES = ('swift', 's3')
# What ``add`` stored: where, how many bytes, their md5 hex digest, their
# multihash as (algorithm, hex digest), and the store's location metadata.
Stored = collections.namedtuple(
    'Stored', ['url', 'size', 'checksum', 'multihash', 'metadata'])
# The answer when the store holding an image's data fails.
DATA_UNAVAILABLE = "The store holding the image data is unavailable."


def configure():
    """Load the configured stores; called once at start-up."""
    try:
        external.allowed_networks()
    except ValueError as e:
        raise RuntimeError("Invalid external_source_allowed_networks: %s"
                           % e)
    if getattr(CONF.glance_store, 's3_store_large_object_size', 0):
        LOG.warning("[glance_store] s3_store_large_object_size = %d is "
                    "ignored: glance_lite uploads every image to S3 in "
                    "parts of s3_store_large_object_chunk_size MB.",
                    CONF.glance_store.s3_store_large_object_size)
    _create_stores()
    glance_store.verify_default_store()
    _guard_http_store()
    _probe_remote_stores()


def request_bound():
    """Seconds a request-path call to a remote store may take at most
    when the store is down: its attempts, and the back-off between them
    (standard botocore, swiftclient's: up to 2 s for the first)."""
    limits = CONF.store_requests
    return (limits.retries + 1) * limits.timeout + 2.0 * limits.retries


def _probe_remote_stores():
    """Reach each loaded swift and s3 store and authenticate once, for
    the log and /healthcheck (health.probe): bounded, never fatal."""
    health.forget()
    checks = {}
    for name in REMOTE_STORES:
        if name in known_schemes():
            check = getattr(glance_store.get_store_from_scheme(name),
                            'check_access', None)
            if check is not None:
                checks[name] = check
    if checks:
        health.probe(checks, request_bound())


def _remote_name(scheme):
    """'swift' or 's3' for a scheme of those stores (swift+config,
    s3+https, ...), else None."""
    base = (scheme or '').split('+', 1)[0].lower()
    return base if base in REMOTE_STORES else None


def _unavailable(failure, what):
    """The StoreUnavailable for a health.Failure of a store call."""
    if failure.state == health.CANNOT_AUTHENTICATE:
        return exception.StoreUnavailable(
            "The image store is unavailable: the service cannot "
            "authenticate to it.")
    return exception.StoreUnavailable(what)


def _outage(scheme, error):
    """The health.Failure of a remote store behind ``error`` (recorded
    and logged), or None."""
    name = _remote_name(scheme)
    if name is None or isinstance(error, exception.GlanceLiteError):
        return None
    failure = health.classify(name, error)
    if failure is not None:
        health.record_failure(name, failure)
        LOG.error("Store %s: %s (%s); check %s", name, failure.state,
                  type(error).__name__, failure.option)
    return failure


def _failed(scheme, error, doing):
    """The StoreUnavailable to raise for a store call (``doing``) that
    failed with ``error``: a remote store's outage is recorded and named
    (health.Failure); any other error is logged, by its type only (its
    message may quote a store URI)."""
    failure = _outage(scheme, error)
    if failure is not None:
        return _unavailable(failure, DATA_UNAVAILABLE)
    LOG.error("Store failed to %s: %s", doing, type(error).__name__)
    return exception.StoreUnavailable(DATA_UNAVAILABLE)


def _reached(scheme):
    name = _remote_name(scheme)
    if name is not None:
        health.record(name, health.OK)


def _create_stores():
    """glance_store.create_stores, with glance_lite's entry point named
    for each store of ``stores`` that has one (DRIVER_ENTRY_POINTS).

    glance_store loads the drivers named by the option; it is overridden
    for that call only, then put back as it was, so the operator's names
    are what the configuration shows.
    """
    names = list(CONF.glance_store.stores)
    entries = [DRIVER_ENTRY_POINTS.get(name.strip(), name) for name in names]
    _check_installed(set(entries) & set(DRIVER_ENTRY_POINTS.values()))
    if entries == names:
        glance_store.create_stores(CONF)
        return
    CONF.set_override('stores', entries, group='glance_store')
    try:
        glance_store.create_stores(CONF)
    finally:
        CONF.clear_override('stores', group='glance_store')
        if list(CONF.glance_store.stores) != names:
            # ``names`` was an override itself (tests, embedding code).
            CONF.set_override('stores', names, group='glance_store')


def _check_installed(entries):
    # Without its entry point, glance_store would only warn and leave the
    # store out: say what is wrong instead.
    installed = {entry_point.name for entry_point in
                 importlib_metadata.entry_points(group='glance_store.drivers')}
    missing = sorted(entries - installed)
    if missing:
        raise RuntimeError(
            "glance_lite's store drivers %s are not installed: reinstall "
            "glance_lite (pip install -e .) so that its entry points are "
            "registered." % ', '.join(missing))


def _guard_http_store():
    """Make glance_store's http driver send its requests (redirect hops
    included) through the SSRF guard of ``external``.

    The driver creates its requests session lazily, only when it has
    none, so a session set here is the one it uses.
    """
    for scheme in external.ALLOWED_SCHEMES:
        if scheme in known_schemes():
            http_store = glance_store.get_store_from_scheme(scheme)
            if not isinstance(getattr(http_store, 'session', None),
                              external.GuardedSession):
                http_store.session = external.GuardedSession()


def redacted(uri):
    """``uri`` with any user name and password replaced by ``***``, for
    messages and log lines."""
    try:
        parts = urllib.parse.urlsplit(uri)
    except ValueError:
        parts = None
    if parts is not None and '@' in parts.netloc:
        netloc = '***@' + parts.netloc.rsplit('@', 1)[1]
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    if '@' in uri:
        # Unparseable but maybe holding credentials: keep the scheme only.
        return uri.split(':', 1)[0] + '://***'
    return uri


def known_schemes():
    return set(glance_store.get_known_schemes())


def check_store_name(name):
    """Raise Invalid unless ``name`` is the scheme of a loaded store."""
    if name not in known_schemes():
        raise exception.Invalid("Required store %s is invalid" % name)


def validate_external_source(uri):
    """Check a caller-supplied location or copy-from URI (spec §6.4).

    :raises Invalid: empty, not http(s) or http(s) not configured, or a
        host the SSRF guard refuses (see ``external``). Messages never
        carry the URI's credentials.
    """
    if not uri:
        raise exception.Invalid("External source should not be empty")
    scheme = uri.split('://', 1)[0].lower() if '://' in uri else ''
    if scheme not in EXTERNAL_SCHEMES or scheme not in known_schemes():
        raise exception.Invalid(
            "External sources are not supported: '%s'" % redacted(uri))
    try:
        store_location.get_location_from_uri(uri)
    except (store_exc.BadStoreUri, store_exc.UnknownScheme,
            ValueError):
        # ValueError: urllib cannot parse it (e.g. "http://[::1").
        raise exception.Invalid("Invalid location %s" % redacted(uri))
    external.validate_source(uri)


def add(image_id, data, scheme=None, size_hint=0):
    """Stream ``data`` (a file-like object) into a store.

    :param size_hint: the size the client declared (0 if none), passed
        to the stores that take it as a hint only (rbd creates its image
        that large): the stream's length is what counts.

    :returns: a :class:`Stored` (location URL, bytes written, md5 hex, the
        multihash of ``hashing_algorithm`` as (algorithm, hex), metadata).
    :raises: Invalid (unknown store), Conflict, LimitExceeded,
        StoreUnavailable, Forbidden, StoreAddDisabled or StoreError; errors
        raised by ``data`` itself (size caps, client disconnects) pass
        through unchanged. The store removes what it wrote on failure.
    """
    scheme = scheme or CONF.glance_store.default_store
    try:
        store = glance_store.get_store_from_scheme(scheme)
    except store_exc.UnknownScheme:
        raise exception.Invalid("Store for scheme %s not found" % scheme)
    try:
        # The file store hashes on another thread and S3 holds a bounded
        # number of parts in memory: their drivers' add (see local, s3).
        # Other drivers get size 0: for them a size is a limit, and the
        # length is checked by the caller, against what the client
        # declared, once the stream has been read (spec §6.5 step 7).
        size = size_hint if getattr(store, 'takes_size_hint', False) else 0
        url, size, checksum, multihash, metadata = (
            glance_store.store_add_to_backend_with_multihash(
                image_id, data, size, CONF.hashing_algorithm, store))
    except store_exc.Duplicate:
        # The data there is not ours to remove.
        raise exception.Conflict("Attempt to upload duplicate image.")
    except exception.StoreUnavailable:
        # A store's own "cannot be reached" (rbd): nothing was written,
        # and a clean-up would wait for the same timeout again.
        raise
    except BaseException as e:
        failure = _outage(scheme, e)
        # Drivers remove what they wrote for most errors, not all (the
        # file driver keeps it on EACCES); make sure nothing is left.
        if failure is None:
            _remove_data_of(store, image_id)
        else:
            _remove_within_bound(store, image_id)
            raise _unavailable(failure, "The image store is unavailable; "
                                        "try again later.")
        raise _add_error(e, scheme, image_id)
    _reached(scheme)
    return Stored(url, size, checksum,
                  (CONF.hashing_algorithm, multihash), metadata)


def _remove_within_bound(store, image_id):
    """``_remove_data_of`` after the store failed: a store that is down
    fails the clean-up too, after its own timeouts; the answer waits at
    most one timeout for it, and the clean-up goes on in the background
    (what it cannot remove it logs; clean-stale finds the pieces)."""
    cleanup = threading.Thread(target=_remove_data_of,
                               args=(store, image_id), daemon=True,
                               name='store-cleanup-%s' % image_id)
    cleanup.start()
    cleanup.join(CONF.store_requests.timeout)


def _add_error(e, scheme, image_id):
    """The glance_lite error for a failed ``add`` (spec §6.5 step 5)."""
    if isinstance(e, (exception.GlanceLiteError, KeyboardInterrupt,
                      SystemExit)):
        # Errors raised by the data reader itself pass through.
        return e
    os_errno = e.errno if isinstance(e, OSError) else None
    if isinstance(e, store_exc.StorageFull) or os_errno in (errno.ENOSPC,
                                                            errno.EDQUOT):
        return exception.StorageFull()
    if isinstance(e, store_exc.StorageWriteDenied) or os_errno in (
            errno.EACCES, errno.EPERM, errno.EROFS):
        # A read-only file system is the operator's permission problem
        # too; glance_store passes its OSError through unmapped.
        return exception.StoreUnavailable(
            "Insufficient permissions on image storage media.")
    if isinstance(e, store_exc.Forbidden):
        return exception.Forbidden("Forbidden upload attempt.")
    if isinstance(e, (store_exc.StoreAddDisabled, NotImplementedError)):
        return exception.StoreAddDisabled()
    LOG.error("Store %s failed to add image %s: %s%s", scheme, image_id,
              type(e).__name__,
              ' (%s)' % os.strerror(os_errno) if os_errno else '')
    return exception.StoreError("Failed to upload image %s" % image_id)


def get(url):
    """Open an image's data for reading.

    :returns: (chunk iterator, size reported by the store or 0).
    :raises: NotFound, StoreUnavailable, or Invalid (store cannot serve
        reads).
    """
    scheme = url.split('://', 1)[0] if '://' in url else ''
    try:
        # No chunk_size: glance_store's file driver then reports the chunk
        # size as the image size.
        answer = glance_store.get_from_backend(url)
    except external.ForbiddenDestination as e:
        # The source (or where it now redirects or resolves to) is no
        # longer allowed.
        LOG.warning("Store refused to open image data: %s", e)
        raise exception.StoreUnavailable(DATA_UNAVAILABLE)
    except store_exc.NotFound:
        raise exception.NotFound("Image data not found in the store.")
    except store_exc.RemoteServiceUnavailable:
        raise exception.StoreUnavailable(DATA_UNAVAILABLE)
    except (store_exc.StoreGetNotSupported, store_exc.UnknownScheme,
            store_exc.BadStoreUri):
        raise exception.Invalid("The image data cannot be read from its "
                                "store.")
    except Exception as e:
        # Remote stores fail in many ways (timeouts, bad answers); none is
        # the client's fault and none may leak the URI.
        raise _failed(scheme, e, 'open image data')
    _reached(scheme)
    return answer


def open_file(chunks):
    """The open file behind a chunk iterator of ``get`` when the data is
    a whole file of the filesystem store (a server may send it with
    sendfile), else None."""
    return local.open_file(chunks)


def get_size(url):
    """Size of the data at an external URI (0 when the store cannot tell).

    :raises: NotFound (nothing at the URI) or Invalid (malformed or
        unreachable URI).
    """
    try:
        return glance_store.get_size_from_backend(url)
    except external.ForbiddenDestination as e:
        # A redirect hop, or the address the connection resolved to.
        LOG.info("Refused external source: %s", e)
        raise exception.Invalid(str(e))
    except store_exc.NotFound as e:
        raise exception.NotFound(str(e.msg) if getattr(e, 'msg', None)
                                 else "Image not found at the location.")
    except store_exc.MaxRedirectsExceeded as e:
        raise exception.Invalid("Invalid location: %s" % e)
    except (store_exc.BadStoreUri, store_exc.UnknownScheme,
            store_exc.BackendException) as e:
        # The driver's message may quote the remote server's answer (an
        # internal page the caller must not read through us) or, for
        # some errors, the URI: logged without credentials, not returned.
        LOG.info("External source %s could not be sized: %s",
                 redacted(url), type(e).__name__)
        raise exception.Invalid("Invalid location %s" % redacted(url))
    except (ValueError, OSError):
        # Errors of the HTTP client the http driver lets through: a URL it
        # cannot parse (bad port), a read timeout, a bad Content-Length.
        raise exception.Invalid("Invalid location %s" % redacted(url))


def delete(url):
    """Remove the data at ``url``; absent data and stores that cannot
    delete (http) are not errors.

    :raises: Forbidden, Conflict (data in use) or StoreUnavailable.
    """
    scheme = url.split('://', 1)[0] if '://' in url else ''
    try:
        glance_store.delete_from_backend(url)
        _reached(scheme)
    except (store_exc.NotFound, store_exc.StoreDeleteNotSupported,
            NotImplementedError):
        LOG.info("Image data already absent or not deletable; skipped.")
    except store_exc.Forbidden:
        raise exception.Forbidden("Forbidden to delete image data.")
    except store_exc.InUseByStore:
        raise exception.Conflict("The image data is in use.")
    except Exception as e:
        # A remote store that cannot be reached or answers an error: the
        # data is still there, so the caller must not forget the image.
        raise _failed(scheme, e, 'delete image data')


def delete_quietly(url):
    """Best-effort removal on an error path: failures are only logged."""
    try:
        delete(url)
    except Exception as e:  # noqa: BLE001 - the caller already failed
        LOG.warning("Could not remove image data after a failure: %s",
                    type(e).__name__)


# One object of a store, as a consistency check sees it: the name the
# store keeps it under (the image id, for data glance_lite wrote), the
# URI a location of it would hold, and its size.
StoreObject = collections.namedtuple('StoreObject', 'name uri size')


class EnumerationUnsupported(exception.GlanceLiteError):
    message = 'This store cannot list its objects.'


def _writable_stores():
    """Each loaded store that accepts new image data, once."""
    stores = {}
    for scheme in sorted(known_schemes()):
        try:
            store = glance_store.get_store_from_scheme(scheme)
        except store_exc.UnknownScheme:
            continue
        if store.is_capable(capabilities.BitMasks.WRITE_ACCESS):
            # glance_store gives a new instance of the drivers it does not
            # reuse (swift, s3) for each of their schemes: one store.
            stores.setdefault(_identity(store), store)
    return list(stores.values())


def _data_uris(store, image_id):
    """Every URI at which ``store`` would have written this image's data,
    or None when the store cannot tell."""
    data_uris = getattr(store, 'data_uris', None)
    if data_uris is not None:
        # glance_lite's file store: one per datadir.
        return data_uris(image_id)
    if hasattr(store, 'create_location'):
        # Swift builds the location of an image id this way.
        return [store.create_location(image_id).get_uri()]
    return None


def _remove_data_of(store, image_id):
    """Remove whatever ``store`` holds for an image id; True if something
    was removed, None when the store cannot locate it. Never raises."""
    try:
        uris = _data_uris(store, image_id)
        removed = _remove_pieces(store, image_id)
        if uris is None:
            return removed or None
        for uri in uris:
            try:
                glance_store.get_size_from_backend(uri)
            except store_exc.NotFound:
                continue
            glance_store.delete_from_backend(uri)
            removed = True
        return removed
    except Exception as e:  # noqa: BLE001 - best effort, on error paths
        LOG.warning("Could not remove the data of image %s: %s", image_id,
                    type(e).__name__)
        return False


def _remove_pieces(store, image_id):
    """Remove the pieces an interrupted upload leaves besides the object:
    glance_store cleans them up when the store fails, not always when the
    data stream does (a client gone or a cap crossed between two pieces):
    the Swift segments ``<image id>-NNNNN`` already written, an S3
    multipart upload not aborted. True if something was removed."""
    removed = False
    remove_pieces = getattr(store, 'remove_pieces', None)
    if remove_pieces is not None:
        # glance_lite's S3 store aborts the image's multipart uploads.
        removed = remove_pieces(image_id)
    elif hasattr(store, 'create_location') and hasattr(store,
                                                       'get_connection'):
        # Swift: the connection and names its delete() uses too.
        location = store.create_location(image_id)
        connection = store.get_connection(location)
        try:
            segments = connection.get_container(
                location.container, prefix=location.obj + '-',
                full_listing=True)[1]
        except Exception as e:
            if getattr(e, 'http_status', None) != 404:
                raise
            segments = []  # no container, nothing written
        for segment in segments:
            connection.delete_object(location.container, segment['name'])
            removed = True
    if removed:
        LOG.info("Removed the pieces of an interrupted upload of image %s",
                 image_id)
    return removed


def remove_partial_data(image_id):
    """Remove the data an interrupted upload of ``image_id`` may have left
    in any writable store (it has no location yet: the location is found
    from the image id, as the store would have built it).

    :returns: (removed: bool, schemes of stores that cannot locate it).
    """
    removed, unsupported = False, []
    for store in _writable_stores():
        result = _remove_data_of(store, image_id)
        if result is None:
            unsupported.append(store.get_schemes()[0])
        removed = removed or bool(result)
    return removed, unsupported


def list_objects():
    """Every object in the writable stores, for a consistency check: the
    files of the file store, the images of the swift container (segments
    counted in, those whose manifest is gone under their image id), the
    objects of the s3 bucket and the keys with only incomplete multipart
    uploads.

    :raises EnumerationUnsupported: a writable store that cannot list its
        objects (glance_store has no listing call: each store lists its
        own), raised before anything is listed.
    :raises StoreUnavailable: a store failed while it was listed.
    """
    listings = []
    listed = set()
    for store in _writable_stores():
        # Each scheme of a driver glance_store does not reuse (swift, s3)
        # gave a new instance of it: one store all the same.
        if _identity(store) in listed:
            continue
        listed.add(_identity(store))
        # Named as the operator's ``stores`` does (swift, not swift+https).
        scheme = store.get_schemes()[0].split('+', 1)[0]
        lister = getattr(store, 'list_objects', None)
        if lister is None:
            raise EnumerationUnsupported(
                "Listing the objects of the %s store is not supported yet; "
                "only the file, swift, s3 and rbd stores can be checked."
                % scheme)
        try:
            listings.append((scheme, lister()))
        except NotImplementedError as e:
            raise EnumerationUnsupported(
                "The objects of the %s store cannot be listed: %s."
                % (scheme, e))
    for scheme, listing in listings:
        try:
            for name, uri, size in listing:
                yield StoreObject(name, uri, size)
        except Exception as e:
            raise _listing_error(scheme, e)
        _reached(scheme)


def display_uri(uri):
    """A store URI fit for an operator's terminal: file paths as they are,
    other URIs without their credentials."""
    if uri.startswith('file://'):
        return uri[len('file://'):]
    return redacted(uri)


def _listing_error(scheme, error):
    """The StoreUnavailable for a store that failed while listed (logged
    without the driver's message, which may quote a URL)."""
    failure = _outage(scheme, error)
    if failure is not None:
        return _unavailable(failure, "The %s store is unavailable; it "
                                     "could not be listed." % scheme)
    LOG.error("Store %s failed while listed: %s", scheme,
              type(error).__name__)
    return exception.StoreUnavailable("The %s store could not be listed (%s)."
                                      % (scheme, type(error).__name__))


def remove_object(obj):
    """Remove a StoreObject ``list_objects`` listed: the data at its URI
    and the pieces an interrupted upload left under its name (Swift
    segments, S3 multipart uploads, an rbd image and its snapshot),
    which the listing counts in it.
    Data already gone is not an error.

    :raises: Forbidden, Conflict or StoreUnavailable, as ``delete``.
    """
    scheme = obj.uri.split('://', 1)[0] if '://' in obj.uri else ''
    try:
        # Pieces first: the rbd store's removal of an image a dead client
        # still holds fences that client, which the delete cannot.
        _remove_pieces(glance_store.get_store_from_scheme(scheme), obj.name)
    except Exception as e:
        raise _failed(scheme, e, 'remove the pieces of %s' % obj.name)
    delete(obj.uri)


def _identity(store):
    """What two driver instances of one store share: glance_store builds
    a new instance of a driver it does not reuse (swift, s3: no
    DRIVER_REUSABLE) each time one is asked for."""
    return (type(store), tuple(store.get_schemes()),
            getattr(store, 'backend_group', None))


def lists_data_of(url):
    """True if the data at ``url`` lives in a store ``list_objects``
    lists (a writable store: not external http locations)."""
    scheme = url.split('://', 1)[0].lower() if '://' in url else ''
    try:
        store = glance_store.get_store_from_scheme(scheme)
    except store_exc.UnknownScheme:
        return False
    return _identity(store) in {_identity(s) for s in _writable_stores()}


def stored_size(url):
    """The size of the data at ``url`` in a writable store, for a
    consistency check.

    :raises NotFound: no data there.
    :raises StoreUnavailable: a remote store (swift, s3) failed to
        answer: nothing can be concluded about the data.
    :raises Invalid: as ``get_size``, for the other stores.
    """
    scheme = url.split('://', 1)[0] if '://' in url else ''
    if _remote_name(scheme) is None:
        return get_size(url)
    try:
        size = glance_store.get_size_from_backend(url)
    except store_exc.NotFound:
        raise exception.NotFound("Image data not found in the store.")
    except Exception as e:
        raise _failed(scheme, e, 'size image data')
    _reached(scheme)
    return size
