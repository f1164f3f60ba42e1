"""Keeping store locations and credentials out of log lines.

A store URI, a Swift account, a token or a path of the file store in a
log line tells whoever reads the logs where image data lives and, too
often, how to reach it. glance_lite's own messages name images by id and
stores by scheme only, but other lines carry them: oslo.log appends the
current exception's first line to every warning and error logged in an
``except`` block (botocore's "Could not connect to the endpoint URL:
"http://.../<bucket>/<id>""), swiftclient logs failed requests with the
object URL and the token, and tracebacks quote messages. So the redaction
applies to each finished line, whatever logger wrote it: the handlers'
formatters are wrapped (logging's documented extension point), after
oslo.log has set them up.
"""

import logging
import re

# Every store scheme glance_store knows, with its variants.
_STORE_URI = re.compile(
    r'\b(file|swift(?:\+[a-z]+)*|s3(?:\+https?)?|rbd|cinder|vsphere|'
    r'sheepdog)://[^\s"\'<>]*', re.IGNORECASE)
# Swift accounts (AUTH_<project id>, or a reseller prefix of tempauth).
_ACCOUNT = re.compile(r'\bAUTH_[A-Za-z0-9_.-]+')
# Token headers and parameters, as swiftclient and keystoneauth print them.
_TOKEN = re.compile(
    r'\b((?:x-auth-token|x-storage-token|x-subject-token|x-service-token|'
    r'token|auth_token|x-amz-security-token|signature)'
    r'["\']?\s*[:=]\s*["\']?)[^\s"\',;)]{6,}', re.IGNORECASE)


class Redactor:
    """Replaces store URIs, Swift accounts, tokens, the URLs of the
    ``endpoints`` given (base URLs of the object stores) and paths under
    the ``paths`` given (the file store's directories) in a text."""

    def __init__(self, endpoints=(), paths=()):
        self._patterns = []
        for endpoint in endpoints:
            netloc = endpoint.split('://', 1)[-1].split('/', 1)[0]
            if netloc:
                self._patterns.append((re.compile(
                    r'\b(https?)://%s[^\s"\'<>]*' % re.escape(netloc),
                    re.IGNORECASE), r'\1://<redacted>'))
        for path in sorted({p.rstrip('/') for p in paths if p},
                           key=len, reverse=True):
            if len(path) > 1:
                self._patterns.append((re.compile(
                    re.escape(path) + r'(?:/[^\s"\'<>]*)?'), '<file store>'))
        self._patterns += [(_STORE_URI, r'\1://***'),
                           (_ACCOUNT, 'AUTH_***'),
                           (_TOKEN, r'\1***')]

    def __call__(self, text):
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose lines are those of ``formatter``, redacted."""

    def __init__(self, formatter, redact):
        super().__init__()
        self.formatter = formatter or logging.Formatter()
        self.redact = redact

    def format(self, record):
        return self.redact(self.formatter.format(record))


def install(redact, logger=None):
    """Redact every line the handlers of ``logger`` (the root logger by
    default) write; safe to call again (handlers are wrapped once)."""
    for handler in (logger or logging.getLogger()).handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.redact = redact
        else:
            handler.setFormatter(RedactingFormatter(handler.formatter,
                                                    redact))
