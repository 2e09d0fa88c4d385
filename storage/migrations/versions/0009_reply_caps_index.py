"""an index the reply caps count from, so that a message's cap checks read today's replies only

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:10:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_reply_caps', 'reply', ['kind', 'state', 'created_at', 'to_addr', 'campaign_id'])


def downgrade() -> None:
    op.drop_index('ix_reply_caps', table_name='reply')
