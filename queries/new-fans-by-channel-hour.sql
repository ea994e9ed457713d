-- New fans by channel and hour (UTC): each person's first follow, counted to the channel of that
-- follow (its QR scene, `organic` without one), as the attribution counters define newFans.
-- The counters credit `organic` for a scene that names no channel created in the hub; this
-- query keeps the scene as it came. Runs unchanged on DuckDB (npm run sql) and Athena.
WITH follows AS (
  SELECT DISTINCT event_id, app_id, openid, channel, occurred_at
  FROM events
  WHERE type = 'wechat.follow' AND status = 'applied'
),
firsts AS (
  SELECT app_id, openid, min(occurred_at) AS first_at
  FROM follows
  GROUP BY app_id, openid
)
SELECT f.channel, date_trunc('hour', f.occurred_at) AS hour, count(*) AS new_fans
FROM follows f
JOIN firsts x ON f.app_id = x.app_id AND f.openid = x.openid AND f.occurred_at = x.first_at
GROUP BY f.channel, date_trunc('hour', f.occurred_at)
ORDER BY hour, f.channel
