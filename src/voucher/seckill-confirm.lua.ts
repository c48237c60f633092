// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_CONFIRM_LUA = String.raw`
-- The order committed: remember the buyer so repeat requests are answered from Redis.
-- The unit was already taken from the stock at reservation.
local buyersKey = KEYS[1]
local userId = ARGV[1]
local expireAtMs = ARGV[2]

redis.call('sadd', buyersKey, userId)
redis.call('pexpireat', buyersKey, expireAtMs)
return 1
`;
