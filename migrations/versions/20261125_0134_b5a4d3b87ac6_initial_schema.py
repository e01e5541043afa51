"""Initial schema: stores and locations, users, suppliers, lots, items, documents, tags; the ledger (events,
movements, balances); transfers, API tokens, inspections and photos, returns, counts, bench work orders.

Revision ID: b5a4d3b87ac6
Revises: 
Create Date: 2026-11-25 01:34:25.868683

"""
from alembic import op
import sqlalchemy as sa

import scanapp.models.types


# revision identifiers, used by Alembic.
revision = 'b5a4d3b87ac6'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('lot_number_format', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('code = upper(code)', name=op.f('ck_stores_code_upper')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores')),
    sa.UniqueConstraint('code', name=op.f('uq_stores_code'))
    )
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('contact', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('code = upper(code)', name=op.f('ck_suppliers_code_upper')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('associate', 'vault', 'bench', 'manager', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('last_used_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_api_tokens_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remote_addr', sa.String(length=45), nullable=False),
    sa.Column('result', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_events_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_user_id'), ['user_id'], unique=False)

    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('safe', 'vault', 'showcase', 'bench', 'backroom', 'quarantine', 'supplier', 'customer', 'production', 'loss', 'transit', 'vendor_return')", name=op.f('ck_locations_kind')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_locations_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('store_id', 'code', name=op.f('uq_locations_store_id_code'))
    )
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locations_store_id'), ['store_id'], unique=False)

    op.create_table('lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('po_number', sa.String(length=40), nullable=False),
    sa.Column('invoice_number', sa.String(length=40), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('pieces_received', sa.Integer(), nullable=False),
    sa.Column('weight_received', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('weight_unit', sa.String(length=2), nullable=True),
    sa.Column('cost_total', scanapp.models.types.Fixed(precision=18, scale=2), nullable=False),
    sa.Column('metal', sa.String(length=40), nullable=False),
    sa.Column('karat', sa.String(length=10), nullable=False),
    sa.Column('stone', sa.String(length=40), nullable=False),
    sa.Column('shape', sa.String(length=40), nullable=False),
    sa.Column('colour', sa.String(length=40), nullable=False),
    sa.Column('clarity', sa.String(length=20), nullable=False),
    sa.Column('cut', sa.String(length=40), nullable=False),
    sa.Column('origin', sa.String(length=60), nullable=False),
    sa.Column('certificates', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("category IN ('stone', 'metal', 'finished', 'finding')", name=op.f('ck_lots_category')),
    sa.CheckConstraint("weight_unit IS NULL OR weight_unit IN ('ct', 'g')", name=op.f('ck_lots_weight_unit')),
    sa.CheckConstraint('cost_total >= 0', name=op.f('ck_lots_cost_total')),
    sa.CheckConstraint('number = upper(number)', name=op.f('ck_lots_number_upper')),
    sa.CheckConstraint('pieces_received >= 0', name=op.f('ck_lots_pieces_received')),
    sa.CheckConstraint('weight_received >= 0', name=op.f('ck_lots_weight_received')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lots_created_by_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_lots_store_id_stores')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_lots_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('number', name=op.f('uq_lots_number'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lots_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lots_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('return_reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_return_reasons_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_reasons')),
    sa.UniqueConstraint('store_id', 'label', name=op.f('uq_return_reasons_store_id_label'))
    )
    with op.batch_alter_table('return_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_reasons_store_id'), ['store_id'], unique=False)

    op.create_table('user_stores',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_user_stores_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_stores_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'store_id', name=op.f('pk_user_stores'))
    )
    op.create_table('balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('weight', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_balances_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_balances_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balances')),
    sa.UniqueConstraint('lot_id', 'location_id', name=op.f('uq_balances_lot_id_location_id'))
    )
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balances_location_id'), ['location_id'], unique=False)

    op.create_table('counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('ledger_mark', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approve_event_id', sa.String(length=36), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'review', 'approved', 'cancelled')", name=op.f('ck_counts_status')),
    sa.CheckConstraint('round >= 1', name=op.f('ck_counts_round')),
    sa.ForeignKeyConstraint(['approve_event_id'], ['events.id'], name=op.f('fk_counts_approve_event_id_events')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_counts_approved_by_id_users')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_counts_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_counts_closed_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_counts_location_id_locations')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_counts_started_by_id_users')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_counts_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counts')),
    sa.UniqueConstraint('approve_event_id', name=op.f('uq_counts_approve_event_id'))
    )
    with op.batch_alter_table('counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counts_location_id'), ['location_id'], unique=False)
        batch_op.create_index('ix_counts_store_id_status', ['store_id', 'status'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_documents_lot_id_lots')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_lot_id'), ['lot_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('certificate', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('weight', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight >= 0', name=op.f('ck_items_weight')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_items_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_items_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('serial', name=op.f('uq_items_serial'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_certificate'), ['certificate'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_lot_id'), ['lot_id'], unique=False)

    op.create_table('transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_store_id', sa.Integer(), nullable=False),
    sa.Column('to_store_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('carrier', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ship_event_id', sa.String(length=36), nullable=False),
    sa.Column('shipped_by_id', sa.Integer(), nullable=False),
    sa.Column('shipped_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('arrival_location_id', sa.Integer(), nullable=True),
    sa.Column('arrived_by_id', sa.Integer(), nullable=True),
    sa.Column('arrived_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('in_transit', 'arrived', 'discrepancy', 'resolved')", name=op.f('ck_transfers_status')),
    sa.CheckConstraint('from_store_id <> to_store_id', name=op.f('ck_transfers_two_stores')),
    sa.ForeignKeyConstraint(['arrival_location_id'], ['locations.id'], name=op.f('fk_transfers_arrival_location_id_locations')),
    sa.ForeignKeyConstraint(['arrived_by_id'], ['users.id'], name=op.f('fk_transfers_arrived_by_id_users')),
    sa.ForeignKeyConstraint(['from_store_id'], ['stores.id'], name=op.f('fk_transfers_from_store_id_stores')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_transfers_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['ship_event_id'], ['events.id'], name=op.f('fk_transfers_ship_event_id_events')),
    sa.ForeignKeyConstraint(['shipped_by_id'], ['users.id'], name=op.f('fk_transfers_shipped_by_id_users')),
    sa.ForeignKeyConstraint(['to_store_id'], ['stores.id'], name=op.f('fk_transfers_to_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers')),
    sa.UniqueConstraint('ship_event_id', name=op.f('uq_transfers_ship_event_id'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index('ix_transfers_from_store_id_status', ['from_store_id', 'status'], unique=False)
        batch_op.create_index('ix_transfers_to_store_id_status', ['to_store_id', 'status'], unique=False)

    op.create_table('count_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('pieces', sa.Integer(), nullable=True),
    sa.Column('weight', scanapp.models.types.Fixed(precision=18, scale=3), nullable=True),
    sa.Column('repeated', sa.Boolean(), nullable=False),
    sa.Column('entered', sa.Boolean(), nullable=False),
    sa.Column('ledger_mark', sa.Integer(), nullable=False),
    sa.Column('counted_by_id', sa.Integer(), nullable=False),
    sa.Column('counted_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint('item_id IS NULL OR pieces = 1', name=op.f('ck_count_lines_item_one_piece')),
    sa.CheckConstraint('pieces IS NULL OR pieces >= 0', name=op.f('ck_count_lines_pieces')),
    sa.CheckConstraint('weight IS NULL OR weight >= 0', name=op.f('ck_count_lines_weight')),
    sa.ForeignKeyConstraint(['count_id'], ['counts.id'], name=op.f('fk_count_lines_count_id_counts')),
    sa.ForeignKeyConstraint(['counted_by_id'], ['users.id'], name=op.f('fk_count_lines_counted_by_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_count_lines_event_id_events')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_count_lines_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_lines_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_count_lines_lot_id_lots')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['users.id'], name=op.f('fk_count_lines_superseded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_lines')),
    sa.UniqueConstraint('event_id', name=op.f('uq_count_lines_event_id'))
    )
    with op.batch_alter_table('count_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_lines_count_id'), ['count_id'], unique=False)
        batch_op.create_index('uq_count_lines_count_id_item_id', ['count_id', 'item_id'], unique=True, sqlite_where=sa.text('item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL'), postgresql_where=sa.text('item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL'))

    op.create_table('count_recounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['count_id'], ['counts.id'], name=op.f('fk_count_recounts_count_id_counts')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_count_recounts_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_count_recounts_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_count_recounts_lot_id_lots')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_count_recounts_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_recounts'))
    )
    with op.batch_alter_table('count_recounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_recounts_count_id'), ['count_id'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('inspected_by_id', sa.Integer(), nullable=False),
    sa.Column('inspected_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.CheckConstraint("result IN ('pass', 'fail', 'hold')", name=op.f('ck_inspections_result')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_inspections_event_id_events')),
    sa.ForeignKeyConstraint(['inspected_by_id'], ['users.id'], name=op.f('fk_inspections_inspected_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_inspections_item_id_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_inspections_lot_id_lots')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_inspections_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections')),
    sa.UniqueConstraint('event_id', name=op.f('uq_inspections_event_id'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_inspections_lot_id_id', ['lot_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_store_id'), ['store_id'], unique=False)

    op.create_table('movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('from_location_id', sa.Integer(), nullable=False),
    sa.Column('to_location_id', sa.Integer(), nullable=False),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('weight', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('amount', scanapp.models.types.Fixed(precision=18, scale=2), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('receive', 'move', 'ship', 'arrive', 'sell', 'return', 'consume', 'produce', 'adjust', 'write_off', 'vendor_return', 'hold', 'release')", name=op.f('ck_movements_kind')),
    sa.CheckConstraint('from_location_id <> to_location_id', name=op.f('ck_movements_two_places')),
    sa.CheckConstraint('pieces > 0 OR weight > 0', name=op.f('ck_movements_quantity')),
    sa.CheckConstraint('pieces >= 0', name=op.f('ck_movements_pieces')),
    sa.CheckConstraint('weight >= 0', name=op.f('ck_movements_weight')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_movements_event_id_events')),
    sa.ForeignKeyConstraint(['from_location_id'], ['locations.id'], name=op.f('fk_movements_from_location_id_locations')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_movements_item_id_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_movements_lot_id_lots')),
    sa.ForeignKeyConstraint(['reverses_id'], ['movements.id'], name=op.f('fk_movements_reverses_id_movements')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_movements_store_id_stores')),
    sa.ForeignKeyConstraint(['to_location_id'], ['locations.id'], name=op.f('fk_movements_to_location_id_locations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_movements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_movements')),
    sa.UniqueConstraint('event_id', 'line', name=op.f('uq_movements_event_id_line')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_movements_reverses_id'))
    )
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index('ix_movements_from_location_id_id', ['from_location_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_movements_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_movements_lot_id_id', ['lot_id', 'id'], unique=False)
        batch_op.create_index('ix_movements_report', ['kind', 'store_id', 'created_at', 'lot_id', 'to_location_id', 'pieces', 'weight', 'amount', 'reverses_id'], unique=False)
        batch_op.create_index('ix_movements_to_location_id_id', ['to_location_id', 'id'], unique=False)
        batch_op.create_index('ix_movements_user_id_store_id_kind_id', ['user_id', 'store_id', 'kind', 'id'], unique=False)

    op.create_table('transfer_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('extra', sa.Boolean(), nullable=False),
    sa.Column('pieces_shipped', sa.Integer(), nullable=False),
    sa.Column('weight_shipped', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('pieces_arrived', sa.Integer(), nullable=False),
    sa.Column('weight_arrived', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("resolution IN ('', 'written_off', 'booked', 'sent_back')", name=op.f('ck_transfer_lines_resolution')),
    sa.CheckConstraint('NOT extra OR (pieces_shipped = 0 AND weight_shipped = 0)', name=op.f('ck_transfer_lines_extra_not_shipped')),
    sa.CheckConstraint('pieces_shipped >= 0 AND pieces_arrived >= 0', name=op.f('ck_transfer_lines_pieces')),
    sa.CheckConstraint('weight_shipped >= 0 AND weight_arrived >= 0', name=op.f('ck_transfer_lines_weight')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_transfer_lines_item_id_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_transfer_lines_lot_id_lots')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_transfer_lines_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_lines'))
    )
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_lines_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_lines_transfer_id'), ['transfer_id'], unique=False)

    op.create_table('work_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('customer_reference', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('customer_piece', sa.String(length=200), nullable=False),
    sa.Column('jeweler_id', sa.Integer(), nullable=True),
    sa.Column('bench_location_id', sa.Integer(), nullable=False),
    sa.Column('labour_cost', scanapp.models.types.Fixed(precision=18, scale=2), nullable=False),
    sa.Column('material_cost', scanapp.models.types.Fixed(precision=18, scale=2), nullable=True),
    sa.Column('produced_item_id', sa.Integer(), nullable=True),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("item_id IS NULL OR customer_piece = ''", name=op.f('ck_work_orders_one_piece')),
    sa.CheckConstraint("kind IN ('repair', 'custom')", name=op.f('ck_work_orders_kind')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'waiting', 'done', 'collected')", name=op.f('ck_work_orders_status')),
    sa.CheckConstraint('labour_cost >= 0', name=op.f('ck_work_orders_labour_cost')),
    sa.CheckConstraint('material_cost IS NULL OR material_cost >= 0', name=op.f('ck_work_orders_material_cost')),
    sa.ForeignKeyConstraint(['bench_location_id'], ['locations.id'], name=op.f('fk_work_orders_bench_location_id_locations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_work_orders_created_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_work_orders_item_id_items')),
    sa.ForeignKeyConstraint(['jeweler_id'], ['users.id'], name=op.f('fk_work_orders_jeweler_id_users')),
    sa.ForeignKeyConstraint(['produced_item_id'], ['items.id'], name=op.f('fk_work_orders_produced_item_id_items')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_work_orders_store_id_stores')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_work_orders_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders')),
    sa.UniqueConstraint('produced_item_id', name=op.f('uq_work_orders_produced_item_id'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_orders_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_orders_jeweler_id'), ['jeweler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_orders_store_id'), ['store_id'], unique=False)

    op.create_table('components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_components_item_id_items')),
    sa.ForeignKeyConstraint(['movement_id'], ['movements.id'], name=op.f('fk_components_movement_id_movements')),
    sa.ForeignKeyConstraint(['returned_by_id'], ['movements.id'], name=op.f('fk_components_returned_by_id_movements')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_components_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_components')),
    sa.UniqueConstraint('movement_id', name=op.f('uq_components_movement_id')),
    sa.UniqueConstraint('returned_by_id', name=op.f('uq_components_returned_by_id'))
    )
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_components_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('sha256 = lower(sha256)', name=op.f('ck_photos_sha256_lower')),
    sa.CheckConstraint('width > 0 AND height > 0 AND size > 0', name=op.f('ck_photos_dimensions')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_photos_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_photos_store_id_stores')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_store_id'), ['store_id'], unique=False)

    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('weight', scanapp.models.types.Fixed(precision=18, scale=3), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('receipt', sa.String(length=80), nullable=False),
    sa.Column('reason_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('refund', scanapp.models.types.Fixed(precision=18, scale=2), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('override_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("condition IN ('as_new', 'worn', 'damaged')", name=op.f('ck_returns_condition')),
    sa.CheckConstraint("disposition IN ('restock', 'quarantine', 'bench', 'supplier')", name=op.f('ck_returns_disposition')),
    sa.CheckConstraint("sale_id IS NOT NULL OR override_reason <> ''", name=op.f('ck_returns_sale_or_override')),
    sa.CheckConstraint('pieces >= 0 AND weight >= 0 AND (pieces > 0 OR weight > 0)', name=op.f('ck_returns_quantity')),
    sa.CheckConstraint('refund >= 0', name=op.f('ck_returns_refund')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_returns_created_by_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_returns_event_id_events')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_returns_item_id_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_returns_lot_id_lots')),
    sa.ForeignKeyConstraint(['movement_id'], ['movements.id'], name=op.f('fk_returns_movement_id_movements')),
    sa.ForeignKeyConstraint(['override_by_id'], ['users.id'], name=op.f('fk_returns_override_by_id_users')),
    sa.ForeignKeyConstraint(['reason_id'], ['return_reasons.id'], name=op.f('fk_returns_reason_id_return_reasons')),
    sa.ForeignKeyConstraint(['sale_id'], ['movements.id'], name=op.f('fk_returns_sale_id_movements')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_returns_store_id_stores')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_returns_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns')),
    sa.UniqueConstraint('event_id', name=op.f('uq_returns_event_id')),
    sa.UniqueConstraint('movement_id', name=op.f('uq_returns_movement_id'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returns_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_reason_id'), ['reason_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_sale_id'), ['sale_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_returns_store_id'), ['store_id'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('count_id', sa.Integer(), nullable=True),
    sa.Column('created_at', scanapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'lot' AND lot_id IS NOT NULL AND item_id IS NULL AND location_id IS NULL AND work_order_id IS NULL AND count_id IS NULL) OR (kind = 'item' AND item_id IS NOT NULL AND lot_id IS NULL AND location_id IS NULL AND work_order_id IS NULL AND count_id IS NULL) OR (kind = 'location' AND location_id IS NOT NULL AND lot_id IS NULL AND item_id IS NULL AND work_order_id IS NULL AND count_id IS NULL) OR (kind = 'work_order' AND work_order_id IS NOT NULL AND lot_id IS NULL AND item_id IS NULL AND location_id IS NULL AND count_id IS NULL) OR (kind = 'count' AND count_id IS NOT NULL AND lot_id IS NULL AND item_id IS NULL AND location_id IS NULL AND work_order_id IS NULL)", name=op.f('ck_tags_one_target')),
    sa.CheckConstraint('code = upper(code)', name=op.f('ck_tags_code_upper')),
    sa.ForeignKeyConstraint(['count_id'], ['counts.id'], name=op.f('fk_tags_count_id_counts')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_tags_item_id_items')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_tags_location_id_locations')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_tags_lot_id_lots')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_tags_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('code', name=op.f('uq_tags_code')),
    sa.UniqueConstraint('count_id', name=op.f('uq_tags_count_id')),
    sa.UniqueConstraint('item_id', name=op.f('uq_tags_item_id')),
    sa.UniqueConstraint('location_id', name=op.f('uq_tags_location_id')),
    sa.UniqueConstraint('lot_id', name=op.f('uq_tags_lot_id')),
    sa.UniqueConstraint('work_order_id', name=op.f('uq_tags_work_order_id'))
    )
    op.create_table('return_photos',
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_return_photos_photo_id_photos')),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_photos_return_id_returns')),
    sa.PrimaryKeyConstraint('return_id', 'photo_id', name=op.f('pk_return_photos'))
    )


def downgrade():
    op.drop_table('return_photos')
    op.drop_table('tags')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returns_store_id'))
        batch_op.drop_index(batch_op.f('ix_returns_sale_id'))
        batch_op.drop_index(batch_op.f('ix_returns_reason_id'))
        batch_op.drop_index(batch_op.f('ix_returns_lot_id'))
        batch_op.drop_index(batch_op.f('ix_returns_item_id'))

    op.drop_table('returns')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_store_id'))
        batch_op.drop_index(batch_op.f('ix_photos_sha256'))
        batch_op.drop_index(batch_op.f('ix_photos_inspection_id'))

    op.drop_table('photos')
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_components_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_components_item_id'))

    op.drop_table('components')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_store_id'))
        batch_op.drop_index(batch_op.f('ix_work_orders_jeweler_id'))
        batch_op.drop_index(batch_op.f('ix_work_orders_item_id'))

    op.drop_table('work_orders')
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_lines_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_lines_lot_id'))

    op.drop_table('transfer_lines')
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index('ix_movements_user_id_store_id_kind_id')
        batch_op.drop_index('ix_movements_to_location_id_id')
        batch_op.drop_index('ix_movements_report')
        batch_op.drop_index('ix_movements_lot_id_id')
        batch_op.drop_index(batch_op.f('ix_movements_item_id'))
        batch_op.drop_index('ix_movements_from_location_id_id')

    op.drop_table('movements')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_store_id'))
        batch_op.drop_index('ix_inspections_lot_id_id')
        batch_op.drop_index(batch_op.f('ix_inspections_item_id'))

    op.drop_table('inspections')
    with op.batch_alter_table('count_recounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_recounts_count_id'))

    op.drop_table('count_recounts')
    with op.batch_alter_table('count_lines', schema=None) as batch_op:
        batch_op.drop_index('uq_count_lines_count_id_item_id', sqlite_where=sa.text('item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL'), postgresql_where=sa.text('item_id IS NOT NULL AND NOT repeated AND superseded_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_count_lines_count_id'))

    op.drop_table('count_lines')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_transfers_to_store_id_status')
        batch_op.drop_index('ix_transfers_from_store_id_status')

    op.drop_table('transfers')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_lot_id'))
        batch_op.drop_index(batch_op.f('ix_items_location_id'))
        batch_op.drop_index(batch_op.f('ix_items_certificate'))

    op.drop_table('items')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_lot_id'))

    op.drop_table('documents')
    with op.batch_alter_table('counts', schema=None) as batch_op:
        batch_op.drop_index('ix_counts_store_id_status')
        batch_op.drop_index(batch_op.f('ix_counts_location_id'))

    op.drop_table('counts')
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balances_location_id'))

    op.drop_table('balances')
    op.drop_table('user_stores')
    with op.batch_alter_table('return_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_reasons_store_id'))

    op.drop_table('return_reasons')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lots_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_lots_store_id'))

    op.drop_table('lots')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_store_id'))

    op.drop_table('locations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_user_id'))

    op.drop_table('events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_tokens_store_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('suppliers')
    op.drop_table('stores')
