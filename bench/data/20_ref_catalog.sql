-- Reference implementation: catalog, clients and funded wallets.
SELECT bench.make_catalog('ref', 'ref');
