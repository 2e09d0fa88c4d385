"""follow-ups name the message they complete

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:53:05.161131
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completes', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_message_completes', 'message', ['completes'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_message_completes', type_='foreignkey')
        batch_op.drop_column('completes')

