"""The image domain: what an image service does, whichever API asks.

Both Image APIs call these modules; they speak in image dicts and domain
exceptions (``glance_lite.common.exception``), never in headers or webob
objects, and they reach the catalogue (``db``) and the stores (``store``)
for the API layer, which knows neither.

- ``images``: core attribute rules, create, update, attach data, read
  data, delete.
- ``upload`` and ``data``: the upload algorithm every API shares, and the
  bounded readers it stores from.
- ``access``, ``quota``, ``protections``, ``members``: who may see and
  change what, and the configured limits.
- ``settle``: finishing what a request left undone when the database went
  away.
- ``maintenance``: the operator commands of glance-lite-manage.
"""
