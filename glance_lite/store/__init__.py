"""The store facade: image bytes in and out of glance_store drivers.

The API layer calls only this module. It maps glance_store's exceptions to
glance_lite's, and keeps store URIs (which may carry credentials) out of
every message it raises.
"""

import urllib.parse

import glance_store
from glance_store import exceptions as store_exc
from glance_store import location as store_location
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.store import external
from glance_lite.store import local

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# The only schemes a caller may name as an external source. Spec §6.4
# refuses file, filesystem and swift+config (server-local data); the
# other stores' URIs (swift://, s3://, rbd://, ...) name a host or cluster
# the driver would connect to with the caller's credentials, which the
# SSRF guard of ``external`` cannot check: only http(s) are accepted.
EXTERNAL_SCHEMES = external.ALLOWED_SCHEMES


def configure():
    """Load the configured stores; called once at start-up."""
    try:
        external.allowed_networks()
    except ValueError as e:
        raise RuntimeError("Invalid external_source_allowed_networks: %s"
                           % e)
    glance_store.create_stores(CONF)
    glance_store.verify_default_store()
    _guard_http_store()


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


def add(image_id, data, scheme=None):
    """Stream ``data`` (a file-like object) into a store.

    :returns: (location_url, bytes_written, md5_hex, metadata).
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
        if local.handles(store):
            # The file store, hashing on another thread (see local).
            return local.add(image_id, data)
        # Size 0: the length is checked here, against what the client
        # declared, once the stream has been read (spec §6.5 step 7).
        url, size, checksum, _multihash, metadata = (
            glance_store.store_add_to_backend_with_multihash(
                image_id, data, 0, 'md5', store))
    except exception.GlanceLiteError:
        raise
    except store_exc.Duplicate:
        raise exception.Conflict("Attempt to upload duplicate image.")
    except store_exc.StorageFull:
        raise exception.LimitExceeded("Image storage media is full.")
    except store_exc.StorageWriteDenied:
        raise exception.StoreUnavailable(
            "Insufficient permissions on image storage media.")
    except store_exc.Forbidden:
        raise exception.Forbidden("Forbidden upload attempt.")
    except (store_exc.StoreAddDisabled, NotImplementedError):
        raise exception.StoreAddDisabled()
    except Exception as e:
        LOG.error("Store %s failed to add image %s: %s", scheme, image_id,
                  type(e).__name__)
        raise exception.StoreError("Failed to upload image %s" % image_id)
    return url, size, checksum, metadata


def get(url):
    """Open an image's data for reading.

    :returns: (chunk iterator, size reported by the store or 0).
    :raises: NotFound, StoreUnavailable, or Invalid (store cannot serve
        reads).
    """
    try:
        # No chunk_size: glance_store's file driver then reports the chunk
        # size as the image size.
        return glance_store.get_from_backend(url)
    except external.ForbiddenDestination as e:
        # The source (or where it now redirects or resolves to) is no
        # longer allowed.
        LOG.warning("Store refused to open image data: %s", e)
        raise exception.StoreUnavailable(
            "The store holding the image data is unavailable.")
    except store_exc.NotFound:
        raise exception.NotFound("Image data not found in the store.")
    except store_exc.RemoteServiceUnavailable:
        raise exception.StoreUnavailable(
            "The store holding the image data is unavailable.")
    except (store_exc.StoreGetNotSupported, store_exc.UnknownScheme,
            store_exc.BadStoreUri):
        raise exception.Invalid("The image data cannot be read from its "
                                "store.")
    except Exception as e:
        # Remote stores fail in many ways (timeouts, bad answers); none is
        # the client's fault and none may leak the URI.
        LOG.error("Store failed to open image data: %s", type(e).__name__)
        raise exception.StoreUnavailable(
            "The store holding the image data is unavailable.")


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

    :raises: Forbidden or Conflict (data in use).
    """
    try:
        glance_store.delete_from_backend(url)
    except (store_exc.NotFound, store_exc.StoreDeleteNotSupported,
            NotImplementedError):
        LOG.info("Image data already absent or not deletable; skipped.")
    except store_exc.Forbidden:
        raise exception.Forbidden("Forbidden to delete image data.")
    except store_exc.InUseByStore:
        raise exception.Conflict("The image data is in use.")


def delete_quietly(url):
    """Best-effort removal on an error path: failures are only logged."""
    try:
        delete(url)
    except Exception as e:  # noqa: BLE001 - the caller already failed
        LOG.warning("Could not remove image data after a failure: %s",
                    type(e).__name__)
