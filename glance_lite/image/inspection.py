"""Format inspection of uploaded data (v2 spec §12.2, for v1 too: X-16):
oslo.utils' format inspector reads the bytes as they stream to the store,
and once the stream has ended the verdict says whether the data is what
the image declares and what its virtual size is.

Only data of container format ``bare`` is inspected: in any other
container the disk's own header is not at the start of the stream.
"""

import io

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from glance_lite.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

INSPECTION_FAILED = 'Image format inspection failed'
SAFETY_CHECKS_FAILED = 'Image failed safety checks'
MISMATCH = 'Image disk_format %s does not match stream data %s'
# Enough of an upload's first bytes for the inspector to name every
# format it knows by its header (an ISO's descriptor ends at 34 KiB).
HEAD_KEPT = 64 * 1024


def inspect(image, data):
    """Start inspecting the upload of ``image``.

    :param data: the upload's reader (anything with ``read(size)``).
    :returns: an :class:`Inspection`, the reader to give the store
        instead of ``data``, or None when the image's container format is
        not inspected.
    """
    if image.get('container_format') != 'bare':
        return None
    return Inspection(image.get('disk_format'), data)


class Inspection:
    """The inspection of one upload: a reader over ``data`` for the store,
    inspecting what it reads; once the store has read it to its end,
    ``verdict()`` judges the data."""

    def __init__(self, disk_format, data):
        self._disk_format = disk_format
        # With a format to expect, the inspector stops the stream as soon
        # as the data's header proves it is not that format, so a
        # mismatched upload is refused before it is stored whole. A raw
        # disk_format accepts any data, and a mismatch that is allowed
        # must not stop anything.
        expected = None
        if (CONF.image_format.require_image_format_match
                and disk_format != 'raw'):
            expected = disk_format
        self._data = data
        self._head = bytearray()
        self._decided = False
        # The inspector reads what this reader has just read: errors of
        # the upload's own reader (disconnects, caps) stay theirs, and
        # only the inspector's are the inspection's.
        self._just_read = _Handoff()
        self._wrapper = format_inspector.InspectWrapper(
            self._just_read, expected_format=expected)

    def read(self, size):
        """Read for the store; the data is inspected on its way.

        :raises ImageFormatRefused: the data cannot be the declared format.
        """
        chunk = self._data.read(size)
        if self._decided:
            return chunk
        if len(self._head) < HEAD_KEPT:
            self._head += chunk[:HEAD_KEPT - len(self._head)]
        self._just_read.chunk = chunk
        try:
            self._wrapper.read(len(chunk))
            # Every inspector has read the regions it looks at (none
            # waits for the end of the stream): the rest of the data
            # cannot change the verdict, and is not worth inspecting.
            self._decided = self._wrapper.formats is not None
        except format_inspector.ImageFormatError as e:
            raise exception.ImageFormatRefused(self._stopped(e))
        except Exception as e:  # noqa: BLE001 - the inspector of the
            # expected format failed on the data: refused, never a 500.
            LOG.warning("Format inspector of %s failed: %s",
                        self._disk_format, type(e).__name__)
            raise exception.ImageFormatRefused(INSPECTION_FAILED)
        return chunk

    def _stopped(self, error):
        """What to tell a client whose upload the inspector stopped: the
        format its data's head is in, as a second inspection of the head
        alone finds it."""
        LOG.warning("Upload of %s data stopped by the format inspector: %s",
                    self._disk_format, error)
        second = format_inspector.InspectWrapper(io.BytesIO(self._head))
        try:
            while second.read(HEAD_KEPT):
                pass
            second.close()
            return MISMATCH % (self._disk_format, second.format.NAME)
        except format_inspector.ImageFormatError as e:
            return '%s: %s' % (INSPECTION_FAILED, e)

    def verdict(self, size):
        """Judge the data read (all of it: call this after the store has
        read the stream to its end).

        :param size: the number of bytes uploaded.
        :returns: the image's virtual size, or None when none can be
            told (data accepted without a matching format).
        :raises ImageFormatRefused: with the message the client gets.
        """
        # close() ends the inspectors' reading; the source, read to its
        # end by the store, has nothing left to release.
        self._wrapper.close()
        declared = self._disk_format
        try:
            detected = self._detected()
        except format_inspector.ImageFormatError as e:
            LOG.warning("Format inspection of a %s upload failed: %s",
                        declared, e)
            if CONF.image_format.require_image_format_match:
                raise exception.ImageFormatRefused(
                    "%s: %s" % (INSPECTION_FAILED, e))
            return None
        self._check_safety(detected)
        if detected.NAME == declared:
            if _sized_by_length(detected):
                return size
            return self._virtual_size(detected)
        if declared == 'raw':
            # Whatever the bytes hold, a raw disk is exactly them.
            return size
        if (detected.NAME == 'raw'
                and format_inspector.get_inspector(declared) is None):
            # aki, ari, ami, ploop: formats the inspector cannot
            # recognise look raw to it.
            return None
        if CONF.image_format.require_image_format_match:
            LOG.warning("Upload refused: disk_format %s, data %s",
                        declared, detected.NAME)
            raise exception.ImageFormatRefused(
                MISMATCH % (declared, detected.NAME))
        return None

    def _detected(self):
        """The one format the data is in: an ISO that is also a GPT disk
        (a hybrid boot image) is an ISO; any other mix is an error."""
        formats = self._wrapper.formats
        names = sorted(f.NAME for f in formats)
        if names == ['gpt', 'iso']:
            return next(f for f in formats if f.NAME == 'iso')
        return self._wrapper.format

    def _check_safety(self, detected):
        try:
            detected.safety_check()
        except format_inspector.SafetyCheckFailed as e:
            fatal = set(e.failures)
            if detected.NAME == 'gpt':
                fatal -= set(CONF.image_format.gpt_safety_checks_nonfatal)
            LOG.warning("Safety checks of %s data failed: %s (fatal: %s)",
                        detected.NAME, ', '.join(sorted(e.failures)),
                        ', '.join(sorted(fatal)) or 'none')
            if fatal:
                raise exception.ImageFormatRefused(SAFETY_CHECKS_FAILED)
        except format_inspector.ImageFormatError as e:
            LOG.warning("Safety checks of %s data could not run: %s",
                        detected.NAME, e)
            raise exception.ImageFormatRefused(SAFETY_CHECKS_FAILED)

    def _virtual_size(self, detected):
        try:
            return detected.virtual_size
        except Exception as e:  # noqa: BLE001 - a header the inspector
            # matched but cannot size is an inspection failure.
            LOG.warning("Virtual size of %s data unknown: %s",
                        detected.NAME, e)
            if CONF.image_format.require_image_format_match:
                raise exception.ImageFormatRefused(INSPECTION_FAILED)
            return None


def _sized_by_length(inspector):
    """Whether the format's virtual size is just its length (raw, gpt:
    no header states another), which the upload counted."""
    return (type(inspector).virtual_size
            is format_inspector.FileInspector.virtual_size)


class _Handoff:
    """The inspector's source: the chunk the upload read last, once."""

    chunk = b''

    def read(self, size):
        chunk, self.chunk = self.chunk, b''
        return chunk
