"""An image's data through v2: upload, download, deactivate and reactivate
(v2 spec §12, §13).

The upload is v1's (``glance_lite.image.upload``) with v2's failure rule:
a failed upload puts the image back to ``queued``, its data removed, so
the client may try again. Every request is checked in the order of its
spec section; the first failure decides and nothing is stored.
"""

import re

from oslo_config import cfg
import webob
import webob.exc

from glance_lite.api import request_body
from glance_lite.api import sendfile
from glance_lite.api.v2 import common
from glance_lite.api.v2 import ranges
from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.image import images
from glance_lite.image import notifications
from glance_lite.image import quota
from glance_lite.image import upload

CONF = cfg.CONF

UPLOAD_REFUSED = 'Not allowed to upload image data for image %s'
DEACTIVATED = ('The requested image has been deactivated. Image data '
               'download is forbidden.')
NOT_OWNER = 'You do not own this image'
_SIZE = re.compile(r'[0-9]+\Z')
# v2's wording of the 413s (v2 spec §12.1 step 9), by the domain's error.
_TOO_LARGE = [
    (exception.SizeCapExceeded, 'The incoming image is too large: %s'),
    (exception.StorageQuotaExceeded, 'Image exceeds the storage quota: %s'),
    (exception.StorageFull, 'Image storage media is full: %s'),
]


def _check_content_type(req):
    """:raises webob.exc.HTTPUnsupportedMediaType: not octet-stream."""
    header = req.headers.get('Content-Type')
    media_type = header.split(';')[0].strip() if header is not None else None
    if media_type is None or media_type.lower() != 'application/octet-stream':
        raise webob.exc.HTTPUnsupportedMediaType(
            explanation='Invalid content type %s' % media_type)


def _declared_size(req):
    """The size the client declared: ``x-openstack-image-size``, else a
    non-zero Content-Length, else None (v2 spec §12.1 step 2).

    :raises Invalid: the header is not a non-negative integer.
    """
    header = req.headers.get('x-openstack-image-size')
    if header is not None:
        if not _SIZE.match(header.strip()):
            raise exception.Invalid(
                'Invalid or missing image size in request headers.')
        return int(header)
    return req.content_length or None


def _check_formats(image):
    """:raises Invalid: a format is missing (v2 spec §12.1 step 7)."""
    missing = [name for name in ('disk_format', 'container_format')
               if not image.get(name)]
    if len(missing) == 1:
        raise exception.Invalid('Property %s must be set prior to saving '
                                'data.' % missing[0])
    if missing:
        raise exception.Invalid('Properties disk_format, container_format '
                                'must be set prior to saving data.')


def _check_room(size, context, image):
    """A declared size over the cap or the remaining storage quota is
    refused before anything is read (v2 spec §12.1 step 6).

    :raises LimitExceeded: (worded by ``_reworded``).
    """
    if not size:
        return
    if size > CONF.image_size_cap:
        raise exception.SizeCapExceeded(
            'Denying attempt to upload image larger than %d bytes.'
            % CONF.image_size_cap)
    quota.check_storage(size, quota.remaining_storage(context.owner,
                                                      image['id']))


def _reworded(error):
    """``error`` in v2's words, where v2 words it differently from v1."""
    if isinstance(error, exception.ImageDeletedDuringUpload):
        return exception.ImageDeletedDuringUpload(
            'Image %s could not be found after upload. The image may have '
            'been deleted during the upload, cleaning up the chunks '
            'uploaded.' % error.kwargs['image_id'])
    for error_class, wording in _TOO_LARGE:
        if isinstance(error, error_class):
            return type(error)(wording % error.msg)
    return error


class ImageDataController:

    def upload(self, req, image_id):
        """PUT /v2/images/{id}/file: 204, the image active with its data.

        :raises HTTPUnsupportedMediaType: not application/octet-stream.
        :raises Invalid: a bad declared size, missing formats, a short or
            malformed body, a size mismatch (the image queued again).
        :raises Forbidden: read-only caller, policy, not the owner.
        :raises NotFound: unknown, deleted or invisible.
        :raises LimitExceeded: the size cap, the storage quota, a full
            store (the image queued again).
        :raises Conflict: the image is not queued.
        :raises ImageDeletedDuringUpload: deleted while the data streamed.
        """
        context = common.context_of(req)
        _check_content_type(req)
        declared = _declared_size(req)
        common.check_writable(context)
        image = common.find_image(context, image_id)
        refused = UPLOAD_REFUSED % image['id']
        common.authorize(context, 'upload_image', image, refused)
        common.check_owner(context, image, refused)
        try:
            _check_room(declared, context, image)
        except exception.LimitExceeded as e:
            raise _reworded(e)
        if image['status'] != image_status.QUEUED:
            raise exception.Conflict(
                'Image status transition from %s to saving is not allowed'
                % image['status'])
        _check_formats(image)
        # The size the data is checked against once read: only the one
        # the client declared (v2 has no size to set before an upload).
        expected = dict(image, size=declared, checksum=None)
        try:
            upload.upload(expected, request_body.reader(req),
                          owner=context.owner, on_failure=upload.REQUEUE)
        except (exception.LimitExceeded,
                exception.ImageDeletedDuringUpload) as e:
            raise _reworded(e)
        return webob.Response(status=204, content_type=None)

    def download(self, req, image_id):
        """GET /v2/images/{id}/file: 200 with the data, 206 with a range of
        it, or 204 when the image has no data.

        :raises Forbidden: a deactivated image (admins excepted), policy.
        :raises NotFound: unknown, deleted or invisible.
        :raises Invalid: several ranges; HTTPRequestRangeNotSatisfiable: a
            range the image cannot satisfy.
        :raises StoreUnavailable: the store cannot be reached.
        """
        context = common.context_of(req)
        image = common.find_image(context, image_id)
        if (image['status'] == image_status.DEACTIVATED
                and not context.is_admin):
            raise exception.Forbidden(DEACTIVATED)
        common.authorize(context, 'download_image', image)
        if image['status'] not in (image_status.ACTIVE,
                                   image_status.DEACTIVATED):
            return webob.Response(status=204, content_type=None)
        size = image['size'] or 0
        wanted = ranges.requested_range(size, req.headers.get('Range'),
                                        req.headers.get('Content-Range'))
        chunks = images.open_any_location(image) if size else iter(())
        if chunks is None:
            # The store lost the data (v2 spec §23 V6).
            return webob.Response(status=204, content_type=None)
        response = webob.Response(status=200,
                                  content_type='application/octet-stream',
                                  charset=None)
        if image.get('checksum'):
            # The whole image's, also on a 206 (v2 spec §12.3).
            response.headers['Content-MD5'] = image['checksum']
        length = size
        if wanted is not None:
            first, last = wanted
            length = last - first + 1
            response.status = 206
            response.headers['Content-Range'] = ranges.content_range(
                first, last, size)
            chunks = images.byte_range(chunks, first, last)
        on_sent = notifications.download_reporter(context, image, length,
                                                  req.remote_addr)
        if wanted is None:
            response.app_iter = sendfile.body(req.environ, chunks, size,
                                              on_sent)
        elif on_sent is not None:
            response.app_iter = sendfile.CountedBody(chunks, on_sent)
        else:
            response.app_iter = chunks
        response.content_length = length
        return response

    def deactivate(self, req, image_id):
        """POST /v2/images/{id}/actions/deactivate: 204."""
        return self._toggle(req, image_id, 'deactivate', images.deactivate)

    def reactivate(self, req, image_id):
        """POST /v2/images/{id}/actions/reactivate: 204."""
        return self._toggle(req, image_id, 'reactivate', images.reactivate)

    def _toggle(self, req, image_id, rule, change):
        context = common.context_of(req)
        common.check_writable(context)
        image = common.find_image(context, image_id)
        common.authorize(context, rule, image)
        common.check_owner(context, image, NOT_OWNER)
        change(image)
        return webob.Response(status=204, content_type=None)
