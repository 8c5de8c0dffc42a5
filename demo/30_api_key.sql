-- The demo client's API credentials, the reference's own example values,
-- so that its curl examples work against make run as they are written.
-- Demo only: a real key comes from orders.admin_issue_api_key(), which
-- shows a random secret once.
SELECT orders.admin_import_api_key(
	(SELECT id FROM orders.clients WHERE name = 'Demo Client'),
	'sk_live_abc123def456abc123def456', 'your-secret-here', 'demo (make run)')
WHERE NOT EXISTS (SELECT 1 FROM orders.api_keys WHERE key_id = 'sk_live_abc123def456abc123def456');
