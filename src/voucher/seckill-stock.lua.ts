// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_STOCK_LUA = String.raw`
-- Corrects the Redis stock after MySQL decided: 'release' gives a reserved unit back (the order did
-- not happen), 'sold-out' marks the sale sold out (MySQL had no stock left). Only on a published
-- state: on a missing one (expired, lost) a write would create a partial hash with no TTL.
-- Returns 1 if changed, 0 if the state was missing.
local stateKey = KEYS[1]
local change = ARGV[1]

if redis.call('exists', stateKey) == 0 then
  return 0
end
if change == 'release' then
  redis.call('hincrby', stateKey, 'stock', 1)
else
  redis.call('hset', stateKey, 'stock', 0)
end
return 1
`;
