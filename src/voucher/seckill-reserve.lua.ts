// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_RESERVE_LUA = String.raw`
-- Synchronous admission of a batch of requests for one voucher, one round trip for all of them: each
-- request's rate limits (per user and per client address, token buckets of this sale), then the
-- window against this server's clock (TIME, so replicas with skewed clocks agree), then for each
-- request in order the stock and the buyer; an admitted request reserves one unit, so only about
-- 'stock' requests go on to MySQL. Replicas send the requests that arrived in the same event-loop
-- turn together (ReserveBatcher). newBatch, limitBatch, closedSaleReply, batchReply and takeTokens
-- are prepended from admission-batch.lua.ts.
-- KEYS: state, buyers, then (only when a limit is on) for each request its user bucket and its
-- address bucket.
-- ARGV: userRate, userBurst, addressRate, addressBurst (a rate of 0: that limit is off), then the
-- userId of each request.
-- Returns {endMs, then code, retryAfterMs for each request}: codes 0 not published (state missing),
-- 1 not started, 2 ended, 3 sold out, 4 already bought, 5 reserved (the caller must confirm the sale
-- or release the unit), 6 rate limited (retry after retryAfterMs).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userRate = tonumber(ARGV[1])
local userBurst = tonumber(ARGV[2])
local addressRate = tonumber(ARGV[3])
local addressBurst = tonumber(ARGV[4])
local FIRST_REQUEST_ARG = 5
local requests = #ARGV - FIRST_REQUEST_ARG + 1
local limited = #KEYS > 2

local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local batch = newBatch(requests)
-- Limits first: a refused request costs nothing else and counts whatever the sale's state.
if limited then
  limitBatch(batch, 3, {userRate, userBurst, addressRate, addressBurst}, nowMs, 6)
end

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end')
-- A partial hash (e.g. only a sold-out mark survived) counts as unpublished: MySQL will repair it.
local closed = closedSaleReply(batch, state, nowMs)
if closed then
  return closed
end
local endMs = tonumber(state[3])

local stock = tonumber(state[1])
local taken = 0
for i = 1, requests do
  if not batch.codes[i] then
    if stock - taken <= 0 then
      batch.codes[i] = 3
    elseif redis.call('sismember', buyersKey, ARGV[FIRST_REQUEST_ARG + i - 1]) == 1 then
      batch.codes[i] = 4
    else
      batch.codes[i] = 5
      taken = taken + 1
    end
  end
end
if taken > 0 then
  redis.call('hincrby', stateKey, 'stock', -taken)
end
return batchReply(batch, endMs)
`;
