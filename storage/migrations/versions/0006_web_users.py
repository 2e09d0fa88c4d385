"""web console accounts, and the indexes its list and search need

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.create_index('ix_nominee_campaign_current', ['campaign_id', 'superseded_by', 'status'], unique=False)
        batch_op.create_index('ix_nominee_name', ['name'], unique=False)
        batch_op.create_index('ix_nominee_recommending_unit', ['recommending_unit'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.drop_index('ix_nominee_recommending_unit')
        batch_op.drop_index('ix_nominee_name')
        batch_op.drop_index('ix_nominee_campaign_current')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_received_at'))

    op.drop_table('web_user')
