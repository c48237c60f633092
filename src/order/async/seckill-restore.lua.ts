// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_RESTORE_LUA = String.raw`
-- Last step of a rebuild after Redis lost a sale's state (async mode): the buyers and pending
-- orders were written to staging keys; they replace the live ones and the state hash is written,
-- which reopens the sale. All or nothing, and only if the state is still missing: a second
-- rebuild that raced the first never overwrites a sale that is selling again.
-- Returns 1 if restored, 0 if the state existed (staging keys dropped).
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local pendingKey = KEYS[3]
local stagedBuyersKey = KEYS[4]
local stagedPendingKey = KEYS[5]
local stock = ARGV[1]
local beginMs = ARGV[2]
local endMs = ARGV[3]
local accepted = ARGV[4]
local expireAt = ARGV[5]

if redis.call('exists', stateKey) == 1 then
  redis.call('del', stagedBuyersKey, stagedPendingKey)
  return 0
end
redis.call('del', buyersKey, pendingKey)
if redis.call('exists', stagedBuyersKey) == 1 then
  redis.call('rename', stagedBuyersKey, buyersKey)
  redis.call('pexpireat', buyersKey, expireAt)
end
if redis.call('exists', stagedPendingKey) == 1 then
  redis.call('rename', stagedPendingKey, pendingKey)
  redis.call('pexpireat', pendingKey, expireAt)
end
redis.call('hset', stateKey, 'stock', stock, 'begin', beginMs, 'end', endMs, 'accepted', accepted, 'settled', 0)
redis.call('pexpireat', stateKey, expireAt)
return 1
`;
