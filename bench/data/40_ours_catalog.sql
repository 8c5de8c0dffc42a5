-- The engine: catalog, clients and funded wallets.
-- requires: orders.fund_wallet
SELECT bench.make_catalog('ours', 'orders');
