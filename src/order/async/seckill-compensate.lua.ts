// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_COMPENSATE_LUA = String.raw`
-- Dead-letters one accepted order that cannot be persisted, and gives its reservation back, exactly
-- once: only the caller whose XACK removed the entry from the pending list compensates, so a
-- second consumer racing on the same entry changes nothing.
-- Returns 1 if this call compensated, 0 if the entry was already settled.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local ordersKey = KEYS[3]
local pendingKey = KEYS[4]
local failedKey = KEYS[5]
local deadKey = KEYS[6]
local returnedKey = KEYS[7]
local group = ARGV[1]
local streamId = ARGV[2]
local orderId = ARGV[3]
local userId = ARGV[4]
local voucherId = ARGV[5]
local reason = ARGV[6]
-- '1' when the user holds another order of this voucher: the unit goes back, the buyer stays.
local keepBuyer = ARGV[7] == '1'
local restockChannel = ARGV[8]
local keepAfterEndMs = tonumber(ARGV[9])

if redis.call('xack', ordersKey, group, streamId) == 0 then
  return 0
end
-- The failure records live as long as the sale's state (or a day from now if it vanished).
local endMs = redis.call('hget', stateKey, 'end')
local expireAt
if endMs then
  redis.call('hincrby', stateKey, 'stock', 1)
  redis.call('hincrby', stateKey, 'settled', 1)
  expireAt = tonumber(endMs) + keepAfterEndMs
else
  local now = redis.call('time')
  expireAt = tonumber(now[1]) * 1000 + keepAfterEndMs
end
if not keepBuyer then
  redis.call('srem', buyersKey, userId)
end
redis.call('hdel', pendingKey, orderId)
-- Recorded as given back: should this order turn out committed after all (a second holder's commit)
-- and later be cancelled, its return must not add the unit a second time.
redis.call('sadd', returnedKey, orderId)
redis.call('pexpireat', returnedKey, expireAt)
redis.call('hset', failedKey, orderId, userId .. ':' .. reason)
redis.call('pexpireat', failedKey, expireAt)
redis.call('xadd', deadKey, '*', 'orderId', orderId, 'userId', userId, 'voucherId', voucherId, 'reason', reason,
  'streamId', streamId)
redis.call('pexpireat', deadKey, expireAt)
-- Replicas that answer SOLD_OUT from memory must hear that stock came back.
redis.call('publish', restockChannel, voucherId)
return 1
`;
