"""The request context: who is calling, and what that lets them do."""

from oslo_config import cfg
from oslo_context import context

CONF = cfg.CONF


class RequestContext(context.RequestContext):
    """oslo.context's context plus v1's notions of owner and read-only."""

    def __init__(self, read_only=False, **kwargs):
        super().__init__(**kwargs)
        self.read_only = read_only

    @property
    def owner(self):
        """Who owns what this caller creates (spec §4.2); may be None."""
        return self.project_id if CONF.owner_is_tenant else self.user_id

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values
