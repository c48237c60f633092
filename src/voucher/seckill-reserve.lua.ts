// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_RESERVE_LUA = String.raw`
-- Admission to a seckill sale, in one round trip: the caller's rate limits (per user and per client
-- address, token buckets of this sale; takeTokens is prepended from token-bucket.lua), then the window
-- (against this server's clock, TIME, so replicas with skewed clocks agree), the stock and the buyer,
-- and reserves one unit so only about 'stock' requests go on to MySQL.
-- ARGV: userId, userRate, userBurst, addressRate, addressBurst (a rate of 0: no limit; KEYS[3..4]
-- are then not touched).
-- Returns {code, endMs, retryAfterMs}: 0 not published, 1 not started, 2 ended, 3 sold out,
-- 4 already bought, 5 reserved (the caller must confirm the sale or release the unit),
-- 6 rate limited (retry after retryAfterMs).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userBucketKey = KEYS[3]
local addressBucketKey = KEYS[4]
local userId = ARGV[1]
local userRate = tonumber(ARGV[2] or 0)
local userBurst = tonumber(ARGV[3] or 1)
local addressRate = tonumber(ARGV[4] or 0)
local addressBurst = tonumber(ARGV[5] or 1)

local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
-- Limits first: a refused request costs nothing else and counts whatever the sale's state.
local allowed, retryAfterMs = takeTokens({
  {userBucketKey, userRate, userBurst},
  {addressBucketKey, addressRate, addressBurst},
}, nowMs)
if not allowed then
  return {6, 0, retryAfterMs}
end

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end')
-- A partial hash (e.g. only a sold-out mark survived) counts as unpublished: MySQL will repair it.
if not state[1] or not state[2] or not state[3] then
  return {0, 0, 0}
end
local stock = tonumber(state[1])
local endMs = state[3]
if nowMs < tonumber(state[2]) then
  return {1, endMs, 0}
end
if nowMs >= tonumber(endMs) then
  return {2, endMs, 0}
end
if stock <= 0 then
  return {3, endMs, 0}
end
if redis.call('sismember', buyersKey, userId) == 1 then
  return {4, endMs, 0}
end
redis.call('hincrby', stateKey, 'stock', -1)
return {5, endMs, 0}
`;
