"""several mailboxes in one installation, and two machines on one PostgreSQL: each reply knows its
campaign's outbox, raw mail kept in the database (PostgreSQL), why a job of the service is failing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reply_campaign_id'), ['campaign_id'], unique=False)
    op.execute("UPDATE reply SET campaign_id = (SELECT message.campaign_id FROM message "
               "WHERE message.id = reply.message_id) WHERE message_id IS NOT NULL")

    op.create_table('blob',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('job_state',
    sa.Column('job', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('last_ok_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('failing_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('retry_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('job')
    )
    with op.batch_alter_table('job_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_state_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_state_campaign_id'))
    op.drop_table('job_state')
    op.drop_table('blob')
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_campaign_id'))
        batch_op.drop_column('campaign_id')
