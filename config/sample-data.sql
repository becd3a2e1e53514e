-- Sample tables and rows for the local stack (bin/lockstep-demo). Safe to run again: existing rows are kept
-- (tables are never dropped, since Debezium's publication holds them).

CREATE TABLE IF NOT EXISTS public.products (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    price       numeric(12, 2),
    tags        text[],
    attrs       jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE IF NOT EXISTS public.order_lines (
    order_id    bigint,
    line_code   text,
    sku         text NOT NULL,
    quantity    integer NOT NULL,
    PRIMARY KEY (order_id, line_code)
);

INSERT INTO public.products (id, name, price, tags, attrs, updated_at, active) VALUES
    (1, 'Stainless steel kettle', 39.90, '{kitchen,steel}', '{"watts": 2200, "colour": "silver"}', '2026-01-05 09:30:00+00', true),
    (2, 'Cast iron skillet', 54.00, '{kitchen,cast-iron}', '{"diameter_cm": 28}', '2026-01-06 14:00:00+00', true),
    (3, 'Linen apron', 19.95, '{textile}', NULL, '2026-01-07 08:15:00+00', false),
    (4, 'Pour-over coffee set', 72.50, '{coffee,glass}', '{"pieces": ["dripper", "carafe", "filters"]}', '2026-01-08 17:45:30.25+00', true),
    (5, 'Chef''s knife', 129.00, '{kitchen,steel,knife}', '{"blade_cm": 21, "steel": "VG-10"}', '2026-01-09 11:00:00+00', true)
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.order_lines (order_id, line_code, sku, quantity) VALUES
    (1001, 'A', 'KETTLE-1', 1),
    (1001, 'B', 'APRON-3', 2),
    (1002, 'A|gift', 'KNIFE-5', 1)
ON CONFLICT (order_id, line_code) DO NOTHING;
