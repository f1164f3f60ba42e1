"""The one place that turns exceptions into v2 HTTP error answers (v2
spec §19): WebOb's error responses, whose body (JSON, HTML or plain text)
follows the request's Accept header, with the message as explanation.

It differs from v1's mapping where the APIs answer differently: an image
deleted during its upload is 410 (v1: 412), and data that format
inspection refuses is 415 (v1: 400).
"""

from oslo_db import exception as db_exc
from oslo_log import log as logging
import webob.exc

from glance_lite.api import faults as v1_faults
from glance_lite.common import exception

LOG = logging.getLogger(__name__)


class UnsupportedMediaType(webob.exc.HTTPUnsupportedMediaType):
    """A 415 whose body is its explanation, as every other error's:
    WebOb's own template names the request's media type and drops the
    explanation (v2 spec §12.1 and §10.1 word the message)."""
    body_template_obj = webob.exc.WSGIHTTPException.body_template_obj


_STATUS_BY_ERROR = [
    (exception.ImageDeletedDuringUpload, webob.exc.HTTPGone),
    (exception.ImageFormatRefused, UnsupportedMediaType),
    (exception.LimitExceeded, webob.exc.HTTPRequestEntityTooLarge),
    (exception.StoreAddDisabled, webob.exc.HTTPGone),
    (exception.StoreUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.DatabaseUnavailable, webob.exc.HTTPServiceUnavailable),
    (exception.Invalid, webob.exc.HTTPBadRequest),
    (exception.Forbidden, webob.exc.HTTPForbidden),
    (exception.NotFound, webob.exc.HTTPNotFound),
    (exception.Conflict, webob.exc.HTTPConflict),
    (exception.StoreError, webob.exc.HTTPInternalServerError),
]


# Headers an error answer raised as such carries on.
_KEPT_HEADERS = ('allow', 'accept-patch', 'content-range')


def to_http_error(error):
    """The webob error answer for an exception raised behind the v2
    router; an HTTP error raised as such keeps its status and headers and
    gets the same JSON body as the others."""
    if isinstance(error, webob.exc.HTTPException):
        if error.code < 400:
            return error
        # Rebuilt rather than changed: the formatter is set by the
        # constructor only.
        kept = [(name, value) for name, value in error.headers.items()
                if name.lower() in _KEPT_HEADERS]
        error_class = type(error)
        if error_class is webob.exc.HTTPUnsupportedMediaType:
            error_class = UnsupportedMediaType
        return error_class(detail=error.detail,
                           explanation=error.explanation, headers=kept,
                           json_formatter=v1_faults.json_error)
    for error_class, http_class in _STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return http_class(explanation=error.msg,
                              json_formatter=v1_faults.json_error)
    if isinstance(error, db_exc.DBConnectionError):
        LOG.error("Database unreachable: %s", error)
        return webob.exc.HTTPServiceUnavailable(
            explanation=exception.DatabaseUnavailable.message,
            json_formatter=v1_faults.json_error)
    LOG.exception("Unexpected error")
    return webob.exc.HTTPInternalServerError(
        explanation="The server has either erred or is incapable of "
                    "performing the requested operation.",
        json_formatter=v1_faults.json_error)
