"""glance_lite: an OpenStack Image Service speaking the Image API v1."""
