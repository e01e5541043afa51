"""Audit log: sign-ins, account changes and managers' decisions, append-only.

Revision ID: bb249b29fe71
Revises: b5a4d3b87ac6
Create Date: 2026-11-25 03:05:59.075771

"""
from alembic import op
import sqlalchemy as sa

import scanapp.models.types


# revision identifiers, used by Alembic.
revision = 'bb249b29fe71'
down_revision = 'b5a4d3b87ac6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('remote_addr', sa.String(length=45), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.CheckConstraint("action IN ('sign_in', 'sign_in_failed', 'sign_in_locked', 'sign_out', 'sign_in_unlocked', 'user_created', 'role_changed', 'stores_changed', 'user_deactivated', 'user_reactivated', 'password_reset', 'hold_released', 'count_approved', 'count_cancelled', 'return_override', 'token_created', 'token_revoked')", name=op.f('ck_audit_log_action')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_audit_log_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_created_at', 'audit_log', ['created_at'])
    op.create_index('ix_audit_log_remote_addr_created_at', 'audit_log', ['remote_addr', 'created_at'])
    op.create_index('ix_audit_log_store_id_created_at', 'audit_log', ['store_id', 'created_at'])
    op.create_index('ix_audit_log_username_created_at', 'audit_log', ['username', 'created_at'])


def downgrade():
    op.drop_index('ix_audit_log_username_created_at', table_name='audit_log')
    op.drop_index('ix_audit_log_store_id_created_at', table_name='audit_log')
    op.drop_index('ix_audit_log_remote_addr_created_at', table_name='audit_log')
    op.drop_index('ix_audit_log_created_at', table_name='audit_log')
    op.drop_table('audit_log')
