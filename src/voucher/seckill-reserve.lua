-- Admission to a seckill sale, in one round trip: checks the window (against this server's clock,
-- TIME, so replicas with skewed clocks agree), the stock and the buyer, and reserves one unit so
-- only about `stock` requests go on to MySQL.
-- Returns {code, endMs}: 0 not published, 1 not started, 2 ended, 3 sold out, 4 already bought,
-- 5 reserved (the caller must confirm the sale or release the unit).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userId = ARGV[1]

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end')
-- A partial hash (e.g. only a sold-out mark survived) counts as unpublished: MySQL will repair it.
if not state[1] or not state[2] or not state[3] then
  return {0, 0}
end
local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local stock = tonumber(state[1])
local endMs = state[3]
if nowMs < tonumber(state[2]) then
  return {1, endMs}
end
if nowMs >= tonumber(endMs) then
  return {2, endMs}
end
if stock <= 0 then
  return {3, endMs}
end
if redis.call('sismember', buyersKey, userId) == 1 then
  return {4, endMs}
end
redis.call('hincrby', stateKey, 'stock', -1)
return {5, endMs}
