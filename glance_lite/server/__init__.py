"""The standalone server's extensions to cheroot (glance-lite-api), one
concern a module, on cheroot's public API only:

- :mod:`.framing`: strict request framing (RFC 9112): one length,
  digits only, no folded lines, no Transfer-Encoding with Content-Length;
  unread bodies settled, lingering closes, no body for HEAD;
- :mod:`.chunked`: reading chunked request bodies, strict chunk sizes;
- :mod:`.rate_guard`: cutting clients that send too slowly;
- :mod:`.file_wrapper`: ``wsgi.file_wrapper``, sent with sendfile;
- :mod:`.identity_headers`: dropping request headers whose name has an
  underscore;
- :mod:`.wsgi_server`: the gateway, connection and server built from them.

:mod:`.uwsgi_input` is the uWSGI counterpart of :mod:`.chunked`, used by
``glance_lite.wsgi``. Nothing here imports the API, the catalogue or the
stores.
"""
