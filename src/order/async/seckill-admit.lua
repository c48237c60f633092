-- Asynchronous admission of a batch of requests for one voucher, one round trip for all of them:
-- checks the window against this server's clock (TIME, never a replica's), then for each request
-- in order the stock, the buyer and the persistence backlog; an admitted request takes its unit,
-- records its buyer and appends its order to the voucher's stream, all atomically. Replicas send
-- the requests that arrived in the same event-loop turn together (one script call per voucher
-- instead of one per request: the round trip is what an admission costs in Node).
-- ARGV: maxBacklog, keepAfterEndMs, voucherId, then userId, orderId for each request.
-- Returns {endMs, code per request}: 0 not published (state missing), 1 not started, 2 ended,
-- 3 sold out, 4 already bought, 5 accepted, 6 backlog too long (consumers behind).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local ordersKey = KEYS[3]
local pendingKey = KEYS[4]
local maxBacklog = tonumber(ARGV[1])
local keepAfterEndMs = tonumber(ARGV[2])
local voucherId = ARGV[3]
local requests = (#ARGV - 3) / 2

local function all(code, endMs)
  local reply = {endMs}
  for i = 1, requests do
    reply[i + 1] = code
  end
  return reply
end

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end', 'accepted', 'settled')
-- A partial hash (e.g. only a counter survived) counts as missing: it is rebuilt from MySQL.
if not state[1] or not state[2] or not state[3] then
  return all(0, 0)
end
local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local endMs = tonumber(state[3])
if nowMs < tonumber(state[2]) then
  return all(1, endMs)
end
if nowMs >= endMs then
  return all(2, endMs)
end

local stock = tonumber(state[1])
-- Accepted but not yet persisted orders; beyond the bound the sale pauses instead of growing.
local backlog = tonumber(state[4] or 0) - tonumber(state[5] or 0)
local reply = {endMs}
local taken = 0
for i = 1, requests do
  local userId = ARGV[2 + 2 * i]
  local orderId = ARGV[3 + 2 * i]
  local code
  if stock - taken <= 0 then
    code = 3
  elseif redis.call('sismember', buyersKey, userId) == 1 then
    code = 4
  elseif backlog + taken >= maxBacklog then
    code = 6
  else
    code = 5
    taken = taken + 1
    -- Added at once, so a second request of the same user in this batch is already a buyer.
    redis.call('sadd', buyersKey, userId)
    redis.call('xadd', ordersKey, '*', 'orderId', orderId, 'userId', userId, 'voucherId', voucherId)
    redis.call('hset', pendingKey, orderId, userId)
  end
  reply[i + 1] = code
end
if taken > 0 then
  redis.call('hincrby', stateKey, 'stock', -taken)
  redis.call('hincrby', stateKey, 'accepted', taken)
  -- The set and hash may have been created just now; they live as long as the sale's state.
  local expireAt = endMs + keepAfterEndMs
  redis.call('pexpireat', buyersKey, expireAt)
  redis.call('pexpireat', pendingKey, expireAt)
end
return reply
