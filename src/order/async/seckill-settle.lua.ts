// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_SETTLE_LUA = String.raw`
-- Entries whose orders are committed in MySQL: acknowledge them and forget them as pending.
-- XACK counts only entries still pending, so a redelivered entry is never counted twice and
-- 'settled' (the backlog bound's counter) stays exact.
local stateKey = KEYS[1]
local ordersKey = KEYS[2]
local pendingKey = KEYS[3]
local group = ARGV[1]
local count = tonumber(ARGV[2])
-- ARGV[3 .. 2+count] are stream ids, ARGV[3+count .. 2+2*count] the matching order ids.

local acked = redis.call('xack', ordersKey, group, unpack(ARGV, 3, 2 + count))
redis.call('hdel', pendingKey, unpack(ARGV, 3 + count, 2 + 2 * count))
-- Never recreate a vanished state hash as a partial one without a TTL.
if acked > 0 and redis.call('exists', stateKey) == 1 then
  redis.call('hincrby', stateKey, 'settled', acked)
end
return acked
`;
