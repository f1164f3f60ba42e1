"""The whole paste app, built in this process as ``glance_lite.api.app.
load_app()`` builds it, and driven with webob requests: no server, no
socket, no child process.

Every app gets its own temporary directory: the config file, the SQLite
catalogue and the file store live there. ``reset()`` forgets the global
state a build leaves behind (oslo.config's CONF, the catalogue engine,
the policy enforcer), so the next app starts from its own configuration.
"""

import json
import os

from oslo_config import cfg
import webob

from glance_lite.api import app as api_app
from glance_lite.api import policy
from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.image import stale_uploads

CONF = cfg.CONF

# A complete, valid create: the headers python-glanceclient sends.
MINIMAL = {'x-image-meta-name': 'cirros',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'bare'}
OCTETS = {'Content-Type': 'application/octet-stream'}


def ini(sections):
    """{section: {option: value}} as the text of an INI file."""
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines += ['%s = %s' % item for item in options.items()]
        lines.append('')
    return '\n'.join(lines)


def reset():
    """Forget the configuration, the catalogue engine and the policy
    enforcer of the last app built."""
    stale_uploads.stop()
    db_api.reset()
    policy.reset()
    CONF.reset()


class App:
    """The paste pipeline of one flavor over a catalogue and file store
    under ``workdir``.

    :param config: {section: {option: value}} over the defaults (noauth,
        state_path under ``workdir``, log to stderr only).
    """

    def __init__(self, workdir, config=None):
        self.workdir = str(workdir)
        self.state_path = os.path.join(self.workdir, 'state')
        self.datadir = os.path.join(self.state_path, 'images')
        sections = {'DEFAULT': {'state_path': self.state_path},
                    'paste_deploy': {'flavor': 'noauth'}}
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        self.config_file = os.path.join(self.workdir, 'glance-lite.conf')
        with open(self.config_file, 'w') as f:
            f.write(ini(sections))
        reset()
        conf.parse_args(['--config-file', self.config_file],
                        default_config_files=[])
        self.wsgi = api_app.load_app()

    def request(self, method, path, headers=None, body=None, **kwargs):
        """Send one request through the whole pipeline; the webob
        response, its body already read (and the app_iter closed, so the
        request log and request id middleware finish as after a real
        response).

        :param body: bytes, or any other value to send as JSON.
        """
        req = webob.Request.blank(path, method=method, **kwargs)
        for name, value in (headers or {}).items():
            if value is None:
                req.headers.pop(name, None)
            else:
                req.headers[name] = value
        if body is not None:
            if not isinstance(body, bytes):
                body = json.dumps(body).encode('utf-8')
                req.headers.setdefault('Content-Type', 'application/json')
            req.body = body
        response = req.get_response(self.wsgi)
        # Reading the body closes the app_iter, as a server does once the
        # answer is sent (the request log writes its line then).
        response.body
        return response

    def create(self, data=None, headers=None, **meta):
        """POST an image; its JSON ``image``. ``meta`` become
        x-image-meta-* headers (``properties`` a dict of
        x-image-meta-property-* ones)."""
        sent = dict(MINIMAL)
        for key, value in meta.pop('properties', {}).items():
            sent['x-image-meta-property-%s' % key] = value
        for key, value in meta.items():
            sent['x-image-meta-%s' % key] = str(value)
        sent.update(headers or {})
        if data is not None:
            sent.update(OCTETS)
        response = self.request('POST', '/v1/images', sent, data)
        assert response.status_int == 201, response.text
        return response.json['image']


def trusted(project, roles='member', user=None, **extra):
    """The identity headers a trusted proxy (or keystonemiddleware) sends
    for a confirmed caller of ``project``."""
    headers = {'X-Identity-Status': 'Confirmed', 'X-Project-Id': project,
               'X-User-Id': user or 'user-of-%s' % project,
               'X-Roles': roles}
    headers.update(extra)
    return headers


ADMIN = trusted('admin-project', roles='admin')
