-- Next sequence number of one prefix for one UTC day. The counter expires after its day
-- (plus a day of grace), so old days do not accumulate.
local counterKey = KEYS[1]
local expireAtSeconds = tonumber(ARGV[1])

local sequence = redis.call('incr', counterKey)
if sequence == 1 then
  redis.call('expireat', counterKey, expireAtSeconds)
end
return sequence
