// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_PUBLISH_LUA = String.raw`
-- Publishes a sale's state from MySQL's values. With onlyIfAbsent = '1' an existing state is left
-- alone: a retried publish (its first reply lost) or a late one must never reset the stock of a
-- sale that is already selling (in async mode MySQL's stock lags Redis by the unpersisted orders).
-- Returns 1 if written, 0 if left alone.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local stock = ARGV[1]
local beginMs = ARGV[2]
local endMs = ARGV[3]
local expireAt = ARGV[4]
local onlyIfAbsent = ARGV[5] == '1'

if onlyIfAbsent and redis.call('exists', stateKey) == 1 then
  return 0
end
redis.call('hset', stateKey, 'stock', stock, 'begin', beginMs, 'end', endMs)
redis.call('pexpireat', stateKey, expireAt)
redis.call('pexpireat', buyersKey, expireAt)
return 1
`;
