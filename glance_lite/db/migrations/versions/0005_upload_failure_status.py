"""What a failed upload leaves its image in, recorded while it is saving.

A v1 upload that fails kills its image; a v2 upload puts it back to
``queued`` (v2 spec §12.1, §18). The stale-upload cleaner, finding an
upload whose API process died, must end it the same way, so the move to
``saving`` now records ``upload_failure_status``. Rows saving before this
revision have none and are v1 uploads: the cleaner kills them as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: added in place on every engine (SQLite included),
    # no table copy.
    with op.batch_alter_table('images') as batch:
        batch.add_column(sa.Column('upload_failure_status', sa.String(30)))
