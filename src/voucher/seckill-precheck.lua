-- Sale state of one seckill voucher and whether this user already bought it, in one round trip.
-- Returns {0} when the state is not published, else {1, stock, beginMs, endMs, alreadyBought}.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userId = ARGV[1]

local state = redis.call('hmget', stateKey, 'stock', 'begin', 'end')
-- A partial hash (e.g. only a sold-out mark survived) counts as unpublished: MySQL will repair it.
if not state[1] or not state[2] or not state[3] then
  return {0}
end
return {1, tonumber(state[1]), state[2], state[3], redis.call('sismember', buyersKey, userId)}
