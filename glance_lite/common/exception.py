"""Domain errors raised below the API layer.

Each carries the message a v1 client is shown. ``glance_lite.api.faults``
is the one place that turns them into HTTP answers; nothing below the API
layer knows about status codes.
"""


class GlanceLiteError(Exception):
    """Base of every error glance_lite raises on purpose."""

    message = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        # What the message was made of, for a caller that words it anew.
        self.kwargs = kwargs
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.msg = message
        super().__init__(message)


class Invalid(GlanceLiteError):
    """The request is malformed or asks for something impossible (400)."""
    message = 'Data supplied was not valid.'


class Forbidden(GlanceLiteError):
    """The caller may not do this (403)."""
    message = 'You are not authorized to complete this action.'


class NotFound(GlanceLiteError):
    """The thing asked for does not exist or is not visible (404)."""
    message = 'The resource could not be found.'


class ImageNotFound(NotFound):
    message = 'Image with identifier %(image_id)s not found'


class Conflict(GlanceLiteError):
    """The request conflicts with the image's current state (409)."""
    message = 'Image operation conflicts'


class InvalidTransition(Conflict):
    """The state machine (common/status.py) does not allow this status
    change from the image's current status (409, shown as any conflict).
    """

    def __init__(self, image_id, from_status, to_status, reason=None):
        super().__init__()
        self.image_id = image_id
        self.from_status = from_status
        self.to_status = to_status
        self.reason = reason

    def __str__(self):
        return 'Image %s: %s -> %s is not allowed%s' % (
            self.image_id, self.from_status, self.to_status,
            ' (%s)' % self.reason if self.reason else '')


class Duplicate(Conflict):
    message = 'An image with identifier %(image_id)s already exists'


class ImageDeletedDuringUpload(GlanceLiteError):
    """The image was deleted while its data streamed in (412)."""
    message = ('Image %(image_id)s could not be found after upload. The image '
               'may have been deleted during the upload.')


class LimitExceeded(GlanceLiteError):
    """A size cap or quota was crossed (413)."""
    message = 'The request is larger than the service allows.'


class SizeCapExceeded(LimitExceeded):
    """More bytes than image_size_cap allows (413)."""


class StorageQuotaExceeded(LimitExceeded):
    """More bytes than the owner's storage quota leaves (413)."""


class StorageFull(LimitExceeded):
    """The store has no room left (413)."""
    message = 'Image storage media is full.'


class ClientDisconnected(Invalid):
    message = 'Client disconnected before sending all data to backend'


class StoreAddDisabled(GlanceLiteError):
    """The target store does not take uploads (410)."""
    message = ('Error in store configuration. Adding images to store is '
               'disabled.')


class StoreUnavailable(GlanceLiteError):
    """The store cannot be reached or written right now (503)."""
    message = 'The image store is unavailable.'


class StoreError(GlanceLiteError):
    """An unexpected store failure (500)."""
    message = 'The image store failed.'


class DatabaseUnavailable(GlanceLiteError):
    """The catalogue database cannot be reached (503)."""
    message = 'The image catalogue is unavailable; try again later.'


class ImageFormatRefused(Invalid):
    """Format inspection refused the uploaded data (v2 spec §12.2): v2
    answers 415, v1 400 (a kind of Invalid, decision X-16)."""
    message = 'Image format inspection failed'
