// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_STOCK_LUA = String.raw`
-- Corrects the Redis stock after MySQL decided: 'release' gives a reserved unit back (the order did
-- not happen), 'sold-out' marks the sale sold out (MySQL had no stock left). Only on a published
-- state: on a missing one (expired, lost) a write would create a partial hash with no TTL.
-- A sold-out mark is conditional: ARGV[2] is how many orders' units the sale had got back (the
-- returned set's size) when the caller counted, before it read MySQL's stock. A unit given back
-- since then (seckill-return.lua) would be overwritten by the 0, so the mark is dropped instead:
-- Redis then stays above MySQL for a moment, which MySQL's conditional UPDATE absorbs (the next
-- order it refuses marks the sale again).
-- Returns 1 if changed, 0 if the state was missing or a unit came back since the count.
local stateKey = KEYS[1]
local returnedKey = KEYS[2]
local change = ARGV[1]
local returnedBefore = tonumber(ARGV[2])

if redis.call('exists', stateKey) == 0 then
  return 0
end
if change == 'release' then
  redis.call('hincrby', stateKey, 'stock', 1)
else
  if redis.call('scard', returnedKey) ~= returnedBefore then
    return 0
  end
  redis.call('hset', stateKey, 'stock', 0)
end
return 1
`;
