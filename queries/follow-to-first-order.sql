-- Time from follow to first order: per member, the minutes from the first follow to the first
-- order seen paid at or after it (the order's event time). A member met through an order before
-- following is left out. Member ids are those apply() answered with; runs unchanged on DuckDB
-- (npm run sql) and Athena.
WITH first_follow AS (
  SELECT member_id, min(occurred_at) AS followed_at
  FROM events
  WHERE type = 'wechat.follow' AND status = 'applied' AND member_id IS NOT NULL
  GROUP BY member_id
),
paid_orders AS (
  SELECT member_id, min(occurred_at) AS ordered_at
  FROM events
  WHERE type = 'order' AND status = 'applied' AND paid_fen > 0 AND member_id IS NOT NULL
  GROUP BY member_id
)
SELECT f.member_id, f.followed_at, o.ordered_at, date_diff('minute', f.followed_at, o.ordered_at) AS minutes
FROM first_follow f
JOIN paid_orders o ON o.member_id = f.member_id AND o.ordered_at >= f.followed_at
ORDER BY minutes, f.member_id
