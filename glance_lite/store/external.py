"""Server-side request forgery guard for external sources (spec §6.4).

A caller names an http(s) URI (``x-image-meta-location``,
``x-glance-api-copy-from``) and the service fetches it: without a guard any
tenant could make the service read its own loopback ports, the cloud's
metadata service (169.254.169.254) or hosts on the private network behind
it. Only public unicast addresses are reachable by default; an operator
allows more with ``[DEFAULT] external_source_allowed_networks``.

The check runs three times:

* on the URI as the caller gave it (a clear 400 before anything changes);
* on every request glance_store's http driver sends, redirect hops
  included, by the adapter of the requests session the driver uses;
* on the address each connection really opens: the host name is resolved
  once, every address it resolves to is checked, and the socket connects
  to a checked address, so a name that resolves to a public address at
  check time and to a private one a moment later (DNS rebinding) does not
  get through. Connections through an operator-configured proxy
  (``[glance_store] http_proxy_information``) are checked by URL only:
  the proxy, not this service, connects to the target then.
"""

import ipaddress
import socket
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging
import requests
from requests import adapters
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import connection as urllib3_util_connection

from glance_lite.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

ALLOWED_SCHEMES = ('http', 'https')


class ForbiddenDestination(Exception):
    """A source (or one of its redirects) points where the service must
    not connect. Its message names the host, never the full URI (which may
    carry credentials).

    Not an OSError on purpose: urllib3 and requests would retry or wrap
    those as connection errors; this one must reach the store facade as
    it is.
    """


def allowed_networks():
    """The networks of ``external_source_allowed_networks``, parsed.

    :raises ValueError: an entry is not an address or CIDR.
    """
    return [ipaddress.ip_network(entry.strip(), strict=False)
            for entry in CONF.external_source_allowed_networks
            if entry.strip()]


def _unmapped(address):
    """The IPv4 address an IPv6 form embeds (::ffff:a.b.c.d), else the
    address itself: both forms reach the same host."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
    return address


def address_refusal(address):
    """Why the service must not connect to ``address``, or None.

    Public unicast addresses are allowed; loopback, link-local (the
    metadata service included), private (RFC 1918, fc00::/7), shared
    (CGNAT 100.64.0.0/10), unspecified, multicast and reserved ones are
    refused unless an allowed network contains them.
    """
    address = ipaddress.ip_address(address.split('%', 1)[0])
    plain = _unmapped(address)
    for network in allowed_networks():
        if plain in network or address in network:
            return None
    if plain.is_loopback:
        return 'loopback address'
    if plain.is_link_local:
        return 'link-local address'
    if plain.is_unspecified:
        return 'unspecified address'
    if plain.is_multicast:
        return 'multicast address'
    if plain.is_private or not plain.is_global:
        return 'private or reserved address'
    return None


def _resolve(host, port):
    """Every address ``host`` resolves to, as getaddrinfo entries; numeric
    forms (decimal, octal, hex IPv4) resolve as the C library reads them,
    exactly as the connection would."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ForbiddenDestination(
            "External source host %s cannot be resolved: %s"
            % (host, e))


def check_host(host, port):
    """Resolve ``host`` and refuse it unless every address is allowed.

    :returns: the getaddrinfo entries, all checked.
    :raises ForbiddenDestination: some address is not allowed.
    """
    entries = _resolve(host, port)
    for _family, _type, _proto, _name, sockaddr in entries:
        reason = address_refusal(sockaddr[0])
        if reason:
            raise ForbiddenDestination(
                "External source host %s resolves to a %s (%s), which this "
                "service does not connect to" % (host, reason, sockaddr[0]))
    return entries


def check_url(url):
    """Refuse a URL whose scheme is not http(s) or whose host is not
    allowed.

    :raises ForbiddenDestination: with a message free of credentials.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ForbiddenDestination("External source is not a valid URL")
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise ForbiddenDestination(
            "External source scheme %r is not allowed (only http and "
            "https)" % parts.scheme)
    if not parts.hostname:
        raise ForbiddenDestination("External source has no host")
    default_port = 443 if parts.scheme.lower() == 'https' else 80
    check_host(parts.hostname, port or default_port)


class _GuardedConnectionMixin:
    """Opens the socket to a checked address of the host (see module
    docstring); TLS still verifies the host name itself."""

    def _new_conn(self):
        entries = check_host(self._dns_host, self.port)
        last_error = None
        for _family, _type, _proto, _name, sockaddr in entries:
            try:
                # A numeric address: no second name lookup.
                return urllib3_util_connection.create_connection(
                    (sockaddr[0], self.port), self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as e:
                last_error = e
        raise urllib3_exceptions.NewConnectionError(
            self, "Failed to establish a new connection: %s" % last_error)


class _GuardedHTTPConnection(_GuardedConnectionMixin,
                             urllib3_connection.HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin,
                              urllib3_connection.HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(adapters.HTTPAdapter):
    """Checks every request's URL, and connects only to checked
    addresses."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        # Direct connections only: through a proxy the URL check of
        # send() is what applies (see the module docstring).
        self.poolmanager.pool_classes_by_scheme = {
            'http': _GuardedHTTPConnectionPool,
            'https': _GuardedHTTPSConnectionPool}

    def send(self, request, *args, **kwargs):
        """Send a checked request; a redirect status without a Location
        header (which the http driver would index: a KeyError, a 500) is
        an invalid answer of the source, an error of the HTTP client."""
        check_url(request.url)
        response = super().send(request, *args, **kwargs)
        if 300 <= response.status_code < 400 and (
                'location' not in response.headers):
            response.close()
            raise requests.exceptions.InvalidHeader(
                "External source answered %d without a Location header"
                % response.status_code)
        return response


class GuardedSession(requests.Session):
    """A requests session that reaches allowed destinations only."""

    def __init__(self):
        super().__init__()
        guard = GuardedAdapter()
        self.mount('http://', guard)
        self.mount('https://', guard)

    def merge_environment_settings(self, url, proxies, stream, verify,
                                   cert):
        settings = super().merge_environment_settings(url, proxies, stream,
                                                      verify, cert)
        if verify is None and self.verify is not True:
            # glance_store's http driver puts the operator's choice
            # (https_ca_certificates_file, https_insecure) in the session's
            # verify; requests would replace it with REQUESTS_CA_BUNDLE or
            # CURL_CA_BUNDLE from the environment, which many hosts set to
            # the system bundle, and the configured CA would be ignored.
            settings['verify'] = self.verify
        return settings


def validate_source(uri):
    """Check a caller's source URI before anything is stored.

    :raises exception.Invalid: 400, naming the reason and the host only.
    """
    try:
        check_url(uri)
    except ForbiddenDestination as e:
        LOG.info("Refused external source: %s", e)
        raise exception.Invalid(str(e))
