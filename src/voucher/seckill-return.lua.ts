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
-- Returns how many units this call gave back, or -1 without recording anything when the sale has no
-- state (lost, or expired with the sale): the caller keeps its outbox row and tries again (a rebuild
-- marks the returns its MySQL snapshot holds), or drops it once the sale is over for good.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local returnedKey = KEYS[3]
local restockChannel = ARGV[1]
local voucherId = ARGV[2]
local keepAfterEndMs = tonumber(ARGV[3])
local FIRST_ORDER_ARG = 4

local endMs = redis.call('hget', stateKey, 'end')
if not endMs then
  return -1
end

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
redis.call('pexpireat', returnedKey, tonumber(endMs) + keepAfterEndMs)
if applied > 0 then
  redis.call('hincrby', stateKey, 'stock', applied)
  redis.call('publish', restockChannel, voucherId)
end
return applied
`;
