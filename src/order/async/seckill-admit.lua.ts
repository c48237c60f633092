// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_ADMIT_LUA = String.raw`
-- Asynchronous admission of a batch of requests for one voucher, one round trip for all of them:
-- each request's rate limits (per user and per client address, token buckets of this sale), then
-- the window against this server's clock (TIME, never a replica's), then for each request in order
-- the stock, the buyer and the persistence backlog; an admitted request takes its unit, records its
-- buyer and appends its order to the voucher's stream, all atomically. Replicas send the requests
-- that arrived in the same event-loop turn together (one script call per voucher instead of one per
-- request: in Node the round trip costs more than the script). newBatch, limitBatch,
-- closedSaleReply, batchReply and takeTokens are prepended from admission-batch.lua.ts.
-- KEYS: state, buyers, orders, pending, then (only when a limit is on) for each request its user
-- bucket and its address bucket.
-- ARGV: maxBacklog, keepAfterEndMs, voucherId, userRate, userBurst, addressRate, addressBurst
-- (a rate of 0: that limit is off), then userId, orderId for each request.
-- Returns {endMs, then code, retryAfterMs for each request}: codes 0 not published (state missing),
-- 1 not started, 2 ended, 3 sold out, 4 already bought, 5 accepted, 6 backlog too long (consumers
-- behind), 7 rate limited (retry after retryAfterMs).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local ordersKey = KEYS[3]
local pendingKey = KEYS[4]
local maxBacklog = tonumber(ARGV[1])
local keepAfterEndMs = tonumber(ARGV[2])
local voucherId = ARGV[3]
local userRate = tonumber(ARGV[4])
local userBurst = tonumber(ARGV[5])
local addressRate = tonumber(ARGV[6])
local addressBurst = tonumber(ARGV[7])
local FIRST_REQUEST_ARG = 8
local requests = (#ARGV - FIRST_REQUEST_ARG + 1) / 2
local limited = #KEYS > 4

local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local batch = newBatch(requests)
-- Limits first: a refused request costs nothing else and counts whatever the sale's state.
if limited then
  limitBatch(batch, 5, {userRate, userBurst, addressRate, addressBurst}, nowMs, 7)
end

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end', 'accepted', 'settled')
-- A partial hash (e.g. only a counter survived) counts as missing: it is rebuilt from MySQL.
local closed = closedSaleReply(batch, state, nowMs)
if closed then
  return closed
end
local endMs = tonumber(state[3])

local stock = tonumber(state[1])
-- Accepted but not yet persisted orders; beyond the bound the sale pauses instead of growing.
local backlog = tonumber(state[4] or 0) - tonumber(state[5] or 0)
local taken = 0
for i = 1, requests do
  if not batch.codes[i] then
    local userId = ARGV[FIRST_REQUEST_ARG + 2 * (i - 1)]
    local orderId = ARGV[FIRST_REQUEST_ARG + 2 * (i - 1) + 1]
    if stock - taken <= 0 then
      batch.codes[i] = 3
    elseif redis.call('sismember', buyersKey, userId) == 1 then
      batch.codes[i] = 4
    elseif backlog + taken >= maxBacklog then
      batch.codes[i] = 6
    else
      batch.codes[i] = 5
      taken = taken + 1
      -- Added at once, so a second request of the same user in this batch is already a buyer.
      redis.call('sadd', buyersKey, userId)
      redis.call('xadd', ordersKey, '*', 'orderId', orderId, 'userId', userId, 'voucherId', voucherId)
      -- HSETNX: an order id handed out twice (an id counter that went back) never overwrites
      -- another order's entry; the second order is dead-lettered as ID_COLLISION by its consumer.
      redis.call('hsetnx', pendingKey, orderId, userId)
    end
  end
end
if taken > 0 then
  redis.call('hincrby', stateKey, 'stock', -taken)
  redis.call('hincrby', stateKey, 'accepted', taken)
  -- The set and hash may have been created just now; they live as long as the sale's state.
  local expireAt = endMs + keepAfterEndMs
  redis.call('pexpireat', buyersKey, expireAt)
  redis.call('pexpireat', pendingKey, expireAt)
end
return batchReply(batch, endMs)
`;
