"""Packaging for glance_lite, an OpenStack Image API v1 service."""

import setuptools


def _requirements(path):
    with open(path) as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith('#')]


setuptools.setup(
    name='glance_lite',
    version='0.1.0',
    description='OpenStack Image Service speaking the Image API v1',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=setuptools.find_packages(exclude=['tests', 'tests.*']),
    package_data={
        'glance_lite.db': ['migrations/alembic.ini',
                           'migrations/script.py.mako'],
    },
    include_package_data=True,
    install_requires=_requirements('requirements.txt'),
    entry_points={
        'console_scripts': [
            'glance-lite-api = glance_lite.cmd.api:main',
            'glance-lite-manage = glance_lite.cmd.manage:main',
        ],
        'oslo.config.opts': [
            'glance_lite = glance_lite.conf.opts:list_opts',
        ],
        'oslo.config.opts.defaults': [
            'glance_lite = glance_lite.conf.opts:set_defaults',
        ],
        'oslo.policy.policies': [
            'glance_lite = glance_lite.api.policy:list_rules',
        ],
        'oslo.policy.enforcer': [
            'glance_lite = glance_lite.api.policy:get_enforcer',
        ],
        # glance_store's drivers with glance_lite's upload (and, for the
        # file store, download) paths; glance_lite.store.configure names
        # them for "stores = file", "s3" and "swift" (docs/stores.md).
        'glance_store.drivers': [
            'glance_lite.file = glance_lite.store.local:Store',
            'glance_lite.rbd = glance_lite.store.rbd:Store',
            'glance_lite.s3 = glance_lite.store.s3:Store',
            'glance_lite.swift = glance_lite.store.swift:Store',
        ],
        # /healthcheck's detail view of the stores (docs/stores.md).
        'oslo.middleware.healthcheck': [
            'glance_lite_stores = '
            'glance_lite.api.middleware.healthcheck:StoresHealthcheck',
        ],
    },
)
