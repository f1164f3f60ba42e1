"""The Image API v2 (v2 spec): controllers, schemas and request parsing
over the same image domain (``glance_lite.image``) as v1."""
