"""glance_lite: an OpenStack Image Service speaking the Image API v1."""

import warnings

# eventlet, installed with oslo.messaging, warns on import that it is
# deprecated. glance_lite never uses it, but futurist (under glance_store
# and oslo.messaging) imports it whenever it is installed, and the warning
# would land on the stderr of every command and in Apache's error log.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
