-- Money: a wallet per (client, currency) and the append-only ledger that
-- moves it.  The only way to change a balance is to append a ledger entry:
-- a trigger on the ledger moves the balance in the same statement, and the
-- balance can never go negative (a CHECK).  orders.verify_ledger() proves
-- balance = sum(ledger) for every wallet.  docs/money.md.

CREATE TABLE orders.wallets (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	currency	char(3) NOT NULL REFERENCES orders.currencies,
	balance		numeric(14, 2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
	-- the wallet charged (with an exchange rate) for products in a
	-- currency the client has no wallet in; at most one per client
	is_default	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (client_id, currency)
);
CREATE UNIQUE INDEX wallets_one_default ON orders.wallets (client_id) WHERE is_default;
COMMENT ON TABLE orders.wallets IS
'one wallet per client and currency; the balance moves only with a ledger entry and never goes negative';

CREATE TABLE orders.ledger_entries (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	wallet_id	bigint NOT NULL REFERENCES orders.wallets,
	kind		text NOT NULL CHECK (kind IN ('FUNDING', 'DEBIT', 'REFUND', 'ADJUSTMENT')),
	amount		numeric(14, 2) NOT NULL,
	balance_after numeric(14, 2) NOT NULL,	-- set by the trigger
	order_id	bigint REFERENCES orders.orders,
	note		text CHECK (length(note) <= 500),
	actor		text NOT NULL DEFAULT current_user,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (CASE kind
		   WHEN 'FUNDING' THEN amount > 0 AND order_id IS NULL
		   WHEN 'DEBIT' THEN amount <= 0 AND order_id IS NOT NULL
		   WHEN 'REFUND' THEN amount > 0 AND order_id IS NOT NULL
		   ELSE amount <> 0 END)
);
CREATE INDEX ON orders.ledger_entries (wallet_id, id);
-- An order is debited once and refunded at most once: constraints, so a
-- second refund fails whatever the code that tries it.
CREATE UNIQUE INDEX ledger_one_debit_per_order
	ON orders.ledger_entries (order_id) WHERE kind = 'DEBIT';
CREATE UNIQUE INDEX ledger_one_refund_per_order
	ON orders.ledger_entries (order_id) WHERE kind = 'REFUND';
COMMENT ON TABLE orders.ledger_entries IS
'append-only ledger: every wallet movement (funding, order debit, refund, adjustment) with the balance after it';

-- Append-only, like the status history.
SELECT orders.make_append_only('orders.ledger_entries');

-- In C (src/wallet_ledger.c): moves the wallet's balance by the entry's
-- amount with one UPDATE, whose row lock serialises the movements of one
-- wallet (a concurrent movement re-checks the balance after ours commits);
-- refuses to go below zero (OR103) and a wallet of another client (OR100);
-- records the balance after it in the entry.
CREATE FUNCTION orders.ledger_apply() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ledger_apply' LANGUAGE C;
COMMENT ON FUNCTION orders.ledger_apply() IS
'trigger: moves the wallet balance by the ledger entry''s amount in the same statement; refuses to go below zero';

CREATE TRIGGER ledger_apply
	BEFORE INSERT ON orders.ledger_entries
	FOR EACH ROW EXECUTE FUNCTION orders.ledger_apply();
ALTER TABLE orders.ledger_entries ENABLE ALWAYS TRIGGER ledger_apply;

-- In C (src/wallet_ledger.c): a new wallet starts with balance 0; balance,
-- currency and client change only from orders.ledger_apply (a trigger of
-- the ledger: depth 2 here), OR003 otherwise.
CREATE FUNCTION orders.wallet_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'wallet_guard' LANGUAGE C;
COMMENT ON FUNCTION orders.wallet_guard() IS
'trigger: a wallet''s balance changes only through a ledger entry';

CREATE TRIGGER wallet_guard
	BEFORE INSERT OR UPDATE ON orders.wallets
	FOR EACH ROW EXECUTE FUNCTION orders.wallet_guard();
ALTER TABLE orders.wallets ENABLE ALWAYS TRIGGER wallet_guard;

CREATE FUNCTION orders.open_wallet(p_client_id bigint, p_currency text,
								   p_default boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	wid bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id USING ERRCODE = 'OR101';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM orders.currencies WHERE code = p_currency) THEN
		RAISE EXCEPTION 'currency: unknown currency code "%"', p_currency
			USING ERRCODE = 'OR100', HINT = 'See orders.currencies.';
	END IF;
	INSERT INTO orders.wallets (client_id, currency)
	VALUES (p_client_id, p_currency)
	ON CONFLICT (client_id, currency) DO NOTHING;
	SELECT id INTO wid FROM orders.wallets
	WHERE client_id = p_client_id AND currency = p_currency;
	IF p_default THEN
		UPDATE orders.wallets SET is_default = false
		WHERE client_id = p_client_id AND is_default AND id <> wid;
		UPDATE orders.wallets SET is_default = true WHERE id = wid AND NOT is_default;
	END IF;
	RETURN wid;
END
$$;
COMMENT ON FUNCTION orders.open_wallet(bigint, text, boolean) IS
'the id of the client''s wallet in a currency, created empty if missing; p_default makes it the default wallet';

CREATE FUNCTION orders.fund_wallet(p_client_id bigint, p_currency text, p_amount numeric,
								   p_note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	eid bigint;
BEGIN
	IF p_amount IS NULL OR p_amount <= 0 OR p_amount <> round(p_amount, 2) THEN
		RAISE EXCEPTION 'amount: must be a positive amount with at most 2 decimals, got %',
			coalesce(p_amount::text, 'null') USING ERRCODE = 'OR100';
	END IF;
	INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, note)
	VALUES (p_client_id, orders.open_wallet(p_client_id, p_currency), 'FUNDING', p_amount, p_note)
	RETURNING id INTO eid;
	RETURN eid;
END
$$;
COMMENT ON FUNCTION orders.fund_wallet(bigint, text, numeric, text) IS
'credits a client''s wallet in a currency (opened if missing) with a FUNDING ledger entry; returns the entry id';

CREATE FUNCTION orders.refund_order(p_order_id bigint, p_amount numeric DEFAULT NULL,
									p_note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	debit orders.ledger_entries;
	amount numeric;
	eid bigint;
BEGIN
	SELECT * INTO debit FROM orders.ledger_entries
	WHERE order_id = p_order_id AND kind = 'DEBIT';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'order % was never debited: nothing to refund', p_order_id
			USING ERRCODE = 'OR101';
	END IF;
	amount := coalesce(p_amount, -debit.amount);
	IF amount <= 0 OR amount > -debit.amount OR amount <> round(amount, 2) THEN
		RAISE EXCEPTION 'refund of order %: amount must be > 0 and at most the % % charged, got %',
			p_order_id, -debit.amount,
			(SELECT currency FROM orders.wallets WHERE id = debit.wallet_id), amount
			USING ERRCODE = 'OR100';
	END IF;
	BEGIN
		INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, order_id, note)
		VALUES (debit.client_id, debit.wallet_id, 'REFUND', amount, p_order_id, p_note)
		RETURNING id INTO eid;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'order % is already refunded', p_order_id
			USING ERRCODE = 'OR104',
				  DETAIL = 'An order is refunded at most once (ledger_one_refund_per_order).';
	END;
	RETURN eid;
END
$$;
COMMENT ON FUNCTION orders.refund_order(bigint, numeric, text) IS
'credits back an order''s debit (all of it, or p_amount of it) to the wallet it came from, exactly once per order; returns the REFUND entry id';

CREATE FUNCTION orders.verify_ledger(
	OUT client_id bigint, OUT wallet_id bigint, OUT currency char(3),
	OUT balance numeric, OUT ledger_sum numeric)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT w.client_id, w.id, w.currency, w.balance, coalesce(l.total, 0)
	FROM orders.wallets w
	LEFT JOIN (SELECT e.wallet_id, sum(e.amount) AS total
			   FROM orders.ledger_entries e GROUP BY e.wallet_id) l ON l.wallet_id = w.id
	WHERE w.balance <> coalesce(l.total, 0)
	ORDER BY w.id
$$;
COMMENT ON FUNCTION orders.verify_ledger() IS
'every wallet whose balance differs from the sum of its ledger entries: always none';

-- fund_wallet, open_wallet and refund_order are SECURITY DEFINER: the
-- admin role moves money only through them, never by writing the tables.
GRANT SELECT ON orders.wallets, orders.ledger_entries TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.open_wallet(bigint, text, boolean),
	orders.fund_wallet(bigint, text, numeric, text),
	orders.verify_ledger()
	TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.refund_order(bigint, numeric, text) TO orders_admin;

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.ledger_apply(),
	orders.wallet_guard(),
	orders.open_wallet(bigint, text, boolean),
	orders.fund_wallet(bigint, text, numeric, text),
	orders.refund_order(bigint, numeric, text),
	orders.verify_ledger()
	FROM PUBLIC;
