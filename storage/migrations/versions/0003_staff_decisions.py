"""staff decisions on nominees and corrected fields

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:04:12.684388
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('field_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('old_value', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['nominee_id'], ['nominee.id'], name='fk_field_correction_nominee'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('field_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_correction_nominee_id'), ['nominee_id'], unique=False)

    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('decision')

    with op.batch_alter_table('field_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_correction_nominee_id'))

    op.drop_table('field_correction')
