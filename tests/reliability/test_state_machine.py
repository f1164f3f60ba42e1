"""A stateful property test: hypothesis drives random sequences of API
calls (create with or without data, reserve then upload, metadata updates
with and without purge, uploads the spec refuses, deletes, HEAD, GET,
filtered lists) against one real server, and checks each answer against a
model of the catalogue kept by the test:

- no answer is a 5xx, and each status is the one the spec gives;
- HEAD headers, list and detail contents match the model for the filters
  used; downloaded bytes are the uploaded ones;
- the file store holds exactly one file per active image, of its size.

The server (noauth: the caller is an admin without an owner) is started
once and shared by the examples; each example tags its images with its
own ``run`` property, lists only those, and deletes them when it ends.

Bounded for CI (derandomized, so a failure reproduces on the next run);
GLANCE_LITE_STATE_MACHINE_EXAMPLES and GLANCE_LITE_STATE_MACHINE_STEPS
make a longer run.
"""

import hashlib
import os
import string
import uuid

from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import stateful
from hypothesis import strategies as st
import requests

from tests.reliability import image_checks

TIMEOUT = image_checks.TIMEOUT
SETTINGS = settings(
    max_examples=int(os.environ.get('GLANCE_LITE_STATE_MACHINE_EXAMPLES',
                                    '25')),
    stateful_step_count=int(os.environ.get('GLANCE_LITE_STATE_MACHINE_STEPS',
                                           '30')),
    deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.filter_too_much])

WORDS = string.ascii_letters + string.digits
names = st.text(alphabet=WORDS, min_size=1, max_size=12)
property_keys = st.sampled_from(['a', 'b', 'os_distro', 'kernel_id'])
property_values = st.text(alphabet=WORDS + '-._', min_size=1, max_size=10)
properties = st.dictionaries(property_keys, property_values, max_size=3)
image_data = st.binary(min_size=1, max_size=4096)
# The spec's purge-props header (§7.6): absent means purge for a
# metadata-only PUT.
purge_headers = st.sampled_from([None, 'true', 'false', 'False', '0'])


def _md5(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class CatalogueMachine(stateful.RuleBasedStateMachine):
    """The model: image id -> {'name', 'status', 'is_public', 'protected',
    'properties', 'size', 'checksum', 'data' (the bytes of an active image),
    'deleted'}."""

    server = None  # set by the test

    def __init__(self):
        super().__init__()
        self.session = requests.Session()
        self.run_tag = uuid.uuid4().hex
        self.model = {}

    # -- talking to the server --------------------------------------------

    def call(self, method, path, expected, **kwargs):
        """One request; its status must be one of ``expected``."""
        kwargs.setdefault('timeout', TIMEOUT)
        response = self.session.request(method, self.server.url + path,
                                        **kwargs)
        assert response.status_code < 500, (method, path,
                                            response.status_code,
                                            response.text)
        assert response.status_code in expected, (
            method, path, kwargs.get('headers'), response.status_code,
            response.text)
        return response

    def _meta_headers(self, name=None, props=None, is_public=None,
                      protected=None):
        headers = {'x-image-meta-property-run': self.run_tag}
        if name is not None:
            headers['x-image-meta-name'] = name
        if is_public is not None:
            headers['x-image-meta-is_public'] = str(is_public)
        if protected is not None:
            headers['x-image-meta-protected'] = str(protected)
        for key, value in (props or {}).items():
            headers['x-image-meta-property-' + key] = value
        return headers

    def _images(self, *statuses, deleted=False):
        """Ids of the model's images in these statuses, in creation order:
        never sorted by id, since the server picks ids at random and the
        same draws must pick the same images in every run."""
        return [image_id for image_id, image in self.model.items()
                if image['deleted'] == deleted and (
                    not statuses or image['status'] in statuses)]

    def _check_image_json(self, image_id, body):
        image = self.model[image_id]
        got = (body['status'], body['name'], body['is_public'],
               body['protected'], body['size'], body['checksum'],
               {k: v for k, v in body['properties'].items() if k != 'run'})
        assert got == (image['status'], image['name'], image['is_public'],
                       image['protected'], image['size'], image['checksum'],
                       image['properties'])

    # -- creating ---------------------------------------------------------

    @stateful.rule(name=names, props=properties, is_public=st.booleans(),
                   protected=st.booleans(), data=st.one_of(
                       st.none(), st.just(b''), image_data))
    def create(self, name, props, is_public, protected, data):
        """POST: a reserve (queued), a declared size of 0 (active without
        data) or an upload (active)."""
        headers = self._meta_headers(name, props, is_public, protected)
        if data:
            headers.update({'x-image-meta-disk_format': 'raw',
                            'x-image-meta-container_format': 'bare',
                            'Content-Type': 'application/octet-stream'})
        elif data == b'':
            headers['x-image-meta-size'] = '0'
        response = self.call('POST', '/v1/images', {201}, headers=headers,
                             data=data or None)
        body = response.json()['image']
        self.model[body['id']] = {
            'name': name, 'status': 'queued' if data is None else 'active',
            'is_public': is_public, 'protected': protected,
            'properties': props, 'data': data, 'size': len(data or b''),
            'checksum': _md5(data) if data else None, 'deleted': False}
        self._check_image_json(body['id'], body)

    @stateful.precondition(lambda self: self._images('queued'))
    @stateful.rule(pick=st.data(), data=image_data, extra=properties)
    def upload(self, pick, data, extra):
        """PUT data to a queued image: active; properties merged (§7.5)."""
        image_id = pick.draw(st.sampled_from(self._images('queued')))
        headers = self._meta_headers(props=extra)
        headers.update({'x-image-meta-disk_format': 'raw',
                        'x-image-meta-container_format': 'bare',
                        'Content-Type': 'application/octet-stream'})
        response = self.call('PUT', '/v1/images/' + image_id, {200},
                             headers=headers, data=data)
        image = self.model[image_id]
        image.update(status='active', data=data, size=len(data),
                     checksum=_md5(data))
        image['properties'] = dict(image['properties'], **extra)
        self._check_image_json(image_id, response.json()['image'])

    @stateful.precondition(lambda self: self._images('queued'))
    @stateful.rule(pick=st.data(), data=image_data)
    def upload_with_wrong_size(self, pick, data):
        """PUT data declaring another size: 400, the image killed, no data
        kept (§6.5 step 7)."""
        image_id = pick.draw(st.sampled_from(self._images('queued')))
        headers = {'x-image-meta-disk_format': 'raw',
                   'x-image-meta-container_format': 'bare',
                   'x-image-meta-size': str(len(data) + 1),
                   'Content-Type': 'application/octet-stream'}
        response = self.call('PUT', '/v1/images/' + image_id, {400},
                             headers=headers, data=data)
        assert 'did not match' in response.text
        # The declared size is stored before the data is read (§7.5).
        self.model[image_id].update(status='killed', size=len(data) + 1)

    @stateful.precondition(lambda self: self._images(
        'active', 'killed') or self._images(deleted=True))
    @stateful.rule(pick=st.data(), data=image_data)
    def upload_to_unqueued(self, pick, data):
        """PUT data to an active or killed image: 409; to a deleted one
        (as an admin): 403. Nothing changes."""
        image_id = pick.draw(st.sampled_from(
            self._images('active', 'killed') + self._images(deleted=True)))
        expected = 403 if self.model[image_id]['deleted'] else 409
        self.call('PUT', '/v1/images/' + image_id, {expected},
                  headers={'Content-Type': 'application/octet-stream'},
                  data=data)

    # -- changing ---------------------------------------------------------

    @stateful.precondition(lambda self: self._images())
    @stateful.rule(pick=st.data(), props=properties, purge=purge_headers,
                   name=st.one_of(st.none(), names),
                   is_public=st.one_of(st.none(), st.booleans()),
                   protected=st.one_of(st.none(), st.booleans()))
    def update(self, pick, props, purge, name, is_public, protected):
        """PUT metadata: 200; properties replaced (purge) or merged."""
        image_id = pick.draw(st.sampled_from(self._images()))
        headers = self._meta_headers(name, props, is_public, protected)
        if purge is not None:
            headers['x-glance-registry-purge-props'] = purge
        response = self.call('PUT', '/v1/images/' + image_id, {200},
                             headers=headers)
        image = self.model[image_id]
        if purge in (None, 'true'):
            image['properties'] = dict(props)
        else:
            image['properties'] = dict(image['properties'], **props)
        for field, value in (('name', name), ('is_public', is_public),
                             ('protected', protected)):
            if value is not None:
                image[field] = value
        self._check_image_json(image_id, response.json()['image'])

    @stateful.precondition(lambda self: self._images(deleted=True))
    @stateful.rule(pick=st.data(), name=names)
    def update_deleted(self, pick, name):
        """PUT on a deleted image (admin): 403, nothing changes."""
        image_id = pick.draw(st.sampled_from(self._images(deleted=True)))
        self.call('PUT', '/v1/images/' + image_id, {403},
                  headers=self._meta_headers(name))

    @stateful.precondition(lambda self: self.model)
    @stateful.rule(pick=st.data())
    def delete(self, pick):
        """DELETE: 200 for a live unprotected image, 403 for a protected
        one, 404 for a deleted one."""
        image_id = pick.draw(st.sampled_from(list(self.model)))
        image = self.model[image_id]
        if image['deleted']:
            expected = 404
        elif image['protected']:
            expected = 403
        else:
            expected = 200
        self.call('DELETE', '/v1/images/' + image_id, {expected})
        if expected == 200:
            image.update(deleted=True, status='deleted')

    # -- reading ----------------------------------------------------------

    @stateful.precondition(lambda self: self.model)
    @stateful.rule(pick=st.data())
    def head(self, pick):
        """HEAD: 200 (admins see deleted images) with the model's
        metadata as headers."""
        image_id = pick.draw(st.sampled_from(list(self.model)))
        image = self.model[image_id]
        headers = self.call('HEAD', '/v1/images/' + image_id,
                            {200}).headers
        properties = {
            name[len('x-image-meta-property-'):]: value
            for name, value in headers.items()
            if name.lower().startswith('x-image-meta-property-')}
        properties.pop('run')
        assert (headers['x-image-meta-status'], headers['x-image-meta-name'],
                headers['x-image-meta-is_public'],
                headers['x-image-meta-protected'],
                headers['x-image-meta-deleted'],
                int(headers['x-image-meta-size']),
                headers.get('x-image-meta-checksum'), properties) == (
            image['status'], image['name'], str(image['is_public']),
            str(image['protected']), str(image['deleted']), image['size'],
            image['checksum'], image['properties'])

    @stateful.precondition(lambda self: self.model)
    @stateful.rule(pick=st.data())
    def download(self, pick):
        """GET data: 200 and the uploaded bytes when active, else 404."""
        image_id = pick.draw(st.sampled_from(list(self.model)))
        image = self.model[image_id]
        status, md5, size = image_checks.download(self.session,
                                                  self.server.url, image_id)
        assert status < 500
        if image['status'] == 'active':
            assert (status, md5, size) == (200, _md5(image['data']),
                                           image['size'])
        else:
            assert status == 404

    @stateful.rule(detail=st.booleans(),
                   is_public=st.sampled_from([None, 'None', 'true',
                                              'false']),
                   name=st.one_of(st.none(), names),
                   status=st.sampled_from([None, 'queued', 'active',
                                           'killed']),
                   prop=st.one_of(st.none(), st.tuples(property_keys,
                                                       property_values)),
                   pick=st.data())
    def list_images(self, detail, is_public, name, status, prop, pick):
        """GET /v1/images[/detail] with filters: exactly the images the
        model says, with the model's attributes."""
        if name is None and self.model and pick.draw(st.booleans()):
            # Filter on a name that exists, not only on random ones.
            name = self.model[pick.draw(st.sampled_from(
                list(self.model)))]['name']
        params = {'property-run': self.run_tag, 'limit': 1000}
        for key, value in (('is_public', is_public), ('name', name),
                           ('status', status)):
            if value is not None:
                params[key] = value
        if prop is not None:
            params['property-' + prop[0]] = prop[1]
        path = '/v1/images/detail' if detail else '/v1/images'
        listed = self.call('GET', path, {200}, params=params).json()[
            'images']

        def wanted(image):
            # §10.3: deleted and killed images are hidden; a caller without
            # an owner sees public images unless it asks for all or
            # non-public ones with is_public (these images have no
            # members).
            if image['deleted'] or image['status'] == 'killed':
                return False
            if is_public in (None, 'true') and not image['is_public']:
                return False
            if is_public == 'false' and image['is_public']:
                return False
            return ((name is None or image['name'] == name)
                    and (status is None or image['status'] == status)
                    and (prop is None or image['properties'].get(prop[0])
                         == prop[1]))

        expected = sorted(i for i, image in self.model.items()
                          if wanted(image))
        assert sorted(i['id'] for i in listed) == expected, params
        for entry in listed:
            image = self.model[entry['id']]
            assert (entry['name'], entry['size'], entry['checksum']) == (
                image['name'], image['size'], image['checksum'])
            if detail:
                self._check_image_json(entry['id'], entry)

    # -- after every step -------------------------------------------------

    @stateful.invariant()
    def store_holds_exactly_the_active_images(self):
        live_sizes = {image_id: image['size']
                      for image_id, image in self.model.items()
                      if image['status'] == 'active' and image['size']}
        assert image_checks.store_difference(self.server, live_sizes) == []

    def teardown(self):
        """Delete what is left, so the next example starts with an empty
        store."""
        for image_id in self._images():
            if self.model[image_id]['protected']:
                self.call('PUT', '/v1/images/' + image_id, {200}, headers={
                    'x-image-meta-protected': 'False',
                    'x-glance-registry-purge-props': 'false'})
            self.call('DELETE', '/v1/images/' + image_id, {200})
        self.session.close()
        assert self.server.stored_files() == []


def test_random_call_sequences_match_the_model(api):
    machine = type('Machine', (CatalogueMachine,), {'server': api})
    stateful.run_state_machine_as_test(machine, settings=SETTINGS)
