"""where each of a nominee's fields was read from, so that an inferred one is shown as such

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field_sources', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.drop_column('field_sources')
