// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_RETURN_LUA = String.raw`
-- Gives units of cancelled (or refunded) orders back to a sale's Redis state, exactly once per order:
-- the returned set records every order id whose unit came back, so a relay that runs twice (a replica
-- died after this script but before it deleted its outbox rows, two replicas relaying the same row)
-- changes nothing the second time. Each returned order's buyer may buy again, and replicas that answer
-- SOLD_OUT from memory hear that stock came back.
-- KEYS: state, buyers, returned.
-- ARGV: restockChannel, voucherId, keepAfterEndMs, then orderId, userId for each returned order.
-- Returns how many units this call gave back.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local returnedKey = KEYS[3]
local restockChannel = ARGV[1]
local voucherId = ARGV[2]
local keepAfterEndMs = tonumber(ARGV[3])
local FIRST_ORDER_ARG = 4

local applied = 0
for i = FIRST_ORDER_ARG, #ARGV, 2 do
  local orderId = ARGV[i]
  local userId = ARGV[i + 1]
  -- Only the first return of an order counts.
  if redis.call('sadd', returnedKey, orderId) == 1 then
    applied = applied + 1
    redis.call('srem', buyersKey, userId)
  end
end

local endMs = redis.call('hget', stateKey, 'end')
local expireAt
if endMs then
  expireAt = tonumber(endMs) + keepAfterEndMs
  if applied > 0 then
    redis.call('hincrby', stateKey, 'stock', applied)
  end
else
  -- No state (expired with the sale, or lost): MySQL's stock, which already holds these units, is
  -- what a republish or rebuild starts from; only the record of the return is kept.
  local now = redis.call('time')
  expireAt = tonumber(now[1]) * 1000 + keepAfterEndMs
end
redis.call('pexpireat', returnedKey, expireAt)
if applied > 0 then
  redis.call('publish', restockChannel, voucherId)
end
return applied
`;
