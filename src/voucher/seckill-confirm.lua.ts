// Embedded (the lock library's convention for every script of the repository): the build ships it
// inside its JavaScript, with no .lua asset to copy or find at run time.
export const SECKILL_CONFIRM_LUA = String.raw`
-- Orders committed: remember their buyers so repeat requests are answered from Redis. The units
-- were already taken from the stock at reservation. A committed batch confirms its buyers at once.
-- KEYS: buyers. ARGV: expireAtMs, then the userId of each buyer.
local buyersKey = KEYS[1]
local expireAtMs = ARGV[1]

redis.call('sadd', buyersKey, unpack(ARGV, 2))
redis.call('pexpireat', buyersKey, expireAtMs)
return 1
`;
