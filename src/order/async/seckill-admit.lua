-- Asynchronous admission, one round trip: checks the window against this server's clock (TIME,
-- never a replica's), the stock, the buyer and the persistence backlog; then takes the unit,
-- records the buyer and appends the order to the voucher's stream, all atomically.
-- Returns {code, endMs}: 0 not published (state missing), 1 not started, 2 ended, 3 sold out,
-- 4 already bought, 5 accepted, 6 backlog too long (consumers behind).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local ordersKey = KEYS[3]
local pendingKey = KEYS[4]
local userId = ARGV[1]
local orderId = ARGV[2]
local voucherId = ARGV[3]
local maxBacklog = tonumber(ARGV[4])
local keepAfterEndMs = tonumber(ARGV[5])

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end', 'accepted', 'settled')
-- A partial hash (e.g. only a counter survived) counts as missing: it is rebuilt from MySQL.
if not state[1] or not state[2] or not state[3] then
  return {0, 0}
end
local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local endMs = tonumber(state[3])
if nowMs < tonumber(state[2]) then
  return {1, endMs}
end
if nowMs >= endMs then
  return {2, endMs}
end
if tonumber(state[1]) <= 0 then
  return {3, endMs}
end
if redis.call('sismember', buyersKey, userId) == 1 then
  return {4, endMs}
end
-- Accepted but not yet persisted orders; beyond the bound the sale pauses instead of growing.
if (tonumber(state[4] or 0) - tonumber(state[5] or 0)) >= maxBacklog then
  return {6, endMs}
end
redis.call('hincrby', stateKey, 'stock', -1)
redis.call('hincrby', stateKey, 'accepted', 1)
redis.call('sadd', buyersKey, userId)
redis.call('xadd', ordersKey, '*', 'orderId', orderId, 'userId', userId, 'voucherId', voucherId)
redis.call('hset', pendingKey, orderId, userId)
-- The set and hash may have been created just now; they live as long as the sale's state.
local expireAt = endMs + keepAfterEndMs
redis.call('pexpireat', buyersKey, expireAt)
redis.call('pexpireat', pendingKey, expireAt)
return {5, endMs}
