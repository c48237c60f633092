-- After an order committed: one unit less in the advisory stock (never below 0) and the buyer
-- remembered, so repeat requests are answered without MySQL. Returns the stock left.
local stateKey = KEYS[1]
local buyersKey = KEYS[2]
local userId = ARGV[1]
local expireAtMs = ARGV[2]

redis.call('sadd', buyersKey, userId)
redis.call('pexpireat', buyersKey, expireAtMs)
local stock = tonumber(redis.call('hget', stateKey, 'stock') or '0')
if stock > 0 then
  stock = redis.call('hincrby', stateKey, 'stock', -1)
end
return stock
