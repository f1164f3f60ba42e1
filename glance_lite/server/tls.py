"""TLS for glance-lite-api (spec §24.4): cheroot's builtin SSL adapter,
with TLS 1.2 as the oldest version, client certificates required when a
CA file is given, and the handshake moved from cheroot's acceptor thread
(where a client that connects and sends nothing would stop every other
connection from being accepted) to the connection's worker thread,
bounded by the connection's timeout."""

import ssl

from cheroot.ssl import builtin


class Invalid(Exception):
    """The TLS options cannot be used; the message names the option."""


class Adapter(builtin.BuiltinSSLAdapter):
    """cheroot's builtin adapter whose ``wrap`` leaves the handshake to
    :meth:`Connection.communicate`."""

    def wrap(self, sock):
        tls_sock = self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False)
        return tls_sock, {'wsgi.url_scheme': 'https', 'HTTPS': 'on'}


def adapter(cert_file, key_file, ca_file=None):
    """The adapter for these files, or None when TLS is off (neither
    certificate nor key given).

    :raises Invalid: only one of cert_file and key_file, a file that
        cannot be read or parsed, or a key that is not the certificate's.
    """
    if not cert_file and not key_file:
        if ca_file:
            raise Invalid('ca_file is set but cert_file and key_file are '
                          'not: TLS needs both')
        return None
    if not (cert_file and key_file):
        missing = 'key_file' if cert_file else 'cert_file'
        raise Invalid('TLS needs both cert_file and key_file; %s is not set'
                      % missing)
    for option, path in (('cert_file', cert_file), ('key_file', key_file),
                         ('ca_file', ca_file)):
        if path:
            try:
                with open(path, 'rb'):
                    pass
            except OSError as e:
                raise Invalid('%s %s cannot be read: %s'
                              % (option, path, e.strerror))
    try:
        result = Adapter(cert_file, key_file)
    except ssl.SSLError as e:
        raise Invalid('cert_file %s and key_file %s cannot be used together '
                      '(unparsable, or the key is not the certificate\'s): '
                      '%s' % (cert_file, key_file, e.reason or e))
    context = result.context
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except ssl.SSLError as e:
            raise Invalid('ca_file %s cannot be parsed: %s'
                          % (ca_file, e.reason or e))
        context.verify_mode = ssl.CERT_REQUIRED
    return result


def handshake_first(connection_class):
    """A subclass of ``connection_class`` (a cheroot HTTPConnection) that
    completes the TLS handshake in its worker thread before reading its
    first request; a failed handshake (a plain-HTTP client, a missing
    client certificate, a timeout) closes the connection."""

    class Connection(connection_class):
        tls_established = False

        def communicate(self):
            if not self.tls_established:
                try:
                    self.socket.do_handshake()
                except (ssl.SSLError, OSError) as e:
                    self.server.error_log(
                        'TLS handshake with %s failed: %s'
                        % (self.remote_addr, e))
                    return False
                self.tls_established = True
            return super().communicate()

    Connection.__name__ = 'TLS' + connection_class.__name__
    return Connection
