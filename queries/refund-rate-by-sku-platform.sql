-- Refund rate by SKU and platform: of the paid orders holding a SKU, the share refunded (a
-- refund that succeeded, or the order reaching `refunded`). Runs unchanged on DuckDB
-- (npm run sql) and Athena.
WITH paid AS (
  SELECT DISTINCT e.platform, e.shop_id, e.order_id, t.sku
  FROM events e
  CROSS JOIN UNNEST(e.skus) AS t (sku)
  WHERE e.type = 'order' AND e.status = 'applied' AND e.paid_fen > 0
),
refunded AS (
  SELECT DISTINCT platform, shop_id, order_id
  FROM events
  WHERE status = 'applied'
    AND ((type = 'refund' AND refund_status = 'succeeded') OR (type = 'order' AND order_status = 'refunded'))
)
SELECT p.platform, p.sku, count(*) AS paid_orders, count(r.order_id) AS refunded_orders,
       round(1.0 * count(r.order_id) / count(*), 4) AS refund_rate
FROM paid p
LEFT JOIN refunded r ON r.platform = p.platform AND r.shop_id = p.shop_id AND r.order_id = p.order_id
GROUP BY p.platform, p.sku
ORDER BY p.platform, p.sku
