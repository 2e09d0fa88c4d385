"""forwards of a district's accepted nominees to the city: batches, messages, nominees

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:44:58.710561
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('to_campaign', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('to_addr', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('supplement', sa.Boolean(), nullable=False),
    sa.Column('delivery', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name='fk_forward_campaign'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forward_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('forward_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forward_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('parts', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raw_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['forward_id'], ['forward.id'], name='fk_forward_message_forward'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forward_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forward_message_forward_id'), ['forward_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forward_message_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forward_message_state'), ['state'], unique=False)

    op.create_table('forward_nominee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forward_message_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['forward_message_id'], ['forward_message.id'], name='fk_forward_nominee_message'),
    sa.ForeignKeyConstraint(['nominee_id'], ['nominee.id'], name='fk_forward_nominee_nominee'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nominee_id', name='uq_forward_nominee_nominee')
    )
    with op.batch_alter_table('forward_nominee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forward_nominee_forward_message_id'), ['forward_message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('forward_nominee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forward_nominee_forward_message_id'))

    op.drop_table('forward_nominee')
    with op.batch_alter_table('forward_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forward_message_state'))
        batch_op.drop_index(batch_op.f('ix_forward_message_message_id'))
        batch_op.drop_index(batch_op.f('ix_forward_message_forward_id'))

    op.drop_table('forward_message')
    with op.batch_alter_table('forward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forward_campaign_id'))

    op.drop_table('forward')
